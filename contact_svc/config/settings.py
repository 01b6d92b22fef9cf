"""Settings of contact_svc: common's base settings plus its own apps."""

from pathlib import Path

from common.settings.base import *  # noqa: F403 (the shared settings)
from common.settings.base import ERP, INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, static_root

SERVICE_NAME = "contact"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Contact service"

# common.events: the outbox/inbox tables, the relay and consumer commands, and a
# readiness check that fails when the relay is stuck.
INSTALLED_APPS += ["common.events", "contacts"]
ERP["READINESS_CHECKS"] += ["common.events.health.check_outbox"]
