"""Settings of inventory_svc: common's base settings plus its own apps."""

from pathlib import Path

from common.settings.base import *  # noqa: F403 (the shared settings)
from common.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, static_root
from common.sso.conf import staff_sign_in

SERVICE_NAME = "inventory"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Inventory service"

# common.events: the outbox/inbox tables, the relay and consumer commands, the backlog
# report in readiness and /metrics.
INSTALLED_APPS += ["common.events", "inventory"]

# Stock is moved by the sales and purchase events (inventory.handlers); the consumer is "inventory".
ERP_EVENTS = {"HANDLERS": "inventory.handlers.HANDLERS"}

# The admin signs staff in through the identity provider (common.sso; docs/back-office.md).
staff_sign_in(globals())
