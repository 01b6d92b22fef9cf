"""A minimal service used to test ``common`` on its own."""

from pathlib import Path

from common.settings.base import *  # noqa: F403 (the shared settings)
from common.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, static_root
from common.sso.conf import staff_sign_in

SERVICE_NAME = "commontest"
BASE_DIR = Path(__file__).resolve().parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "common test project"
INSTALLED_APPS += ["common.events", "tests.project", "tests.events.testapp"]
ROOT_URLCONF = "tests.project.urls"
# The admin's single sign-on, as every service has it (common.sso).
staff_sign_in(globals())
