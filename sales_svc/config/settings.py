"""Settings of sales_svc: common's base settings plus its own apps."""

from pathlib import Path

from common.settings.base import *  # noqa: F403 (the shared settings)
from common.settings.base import ERP, INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, env, static_root
from common.sso.conf import staff_sign_in

SERVICE_NAME = "sales"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Sales service"

# common.events: the outbox/inbox tables, the relay and consumer commands, the backlog
# report in readiness and /metrics; naming HANDLERS makes the service run a consumer.
INSTALLED_APPS += ["common.events", "sales"]
ERP_EVENTS = {"HANDLERS": "sales.handlers.HANDLERS"}

# The services whose records orders reference (customers, items and stock), read with a service token.
ERP["CONTACT_SERVICE_URL"] = env("CONTACT_SERVICE_URL", "http://127.0.0.1:8001")
ERP["INVENTORY_SERVICE_URL"] = env("INVENTORY_SERVICE_URL", "http://127.0.0.1:8003")

# The admin signs staff in through the identity provider (common.sso; docs/back-office.md).
staff_sign_in(globals())
