"""A minimal service used to test ``common`` on its own."""

from pathlib import Path

from common.settings.base import DEBUG, INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, static_root
from common.settings.service import *  # noqa: F403 (the shared settings of a service)
from common.sso.conf import (
    admin_cookie_path,
    admin_csrf_cookie,
    admin_session_cookie,
    sso_client_id,
    sso_client_secret,
    sso_settings,
)

SERVICE_NAME = "commontest"
BASE_DIR = Path(__file__).resolve().parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "common test project"
INSTALLED_APPS += ["common.events", "tests.project", "tests.events.testapp"]
ROOT_URLCONF = "tests.project.urls"
# The admin signs staff in through the identity provider (common.sso; docs/back-office.md),
# with cookies of its own name and path behind the gateway, as its own OIDC client.
SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
SSO = sso_settings(SERVICE_NAME)
