"""Settings of inventory_svc: common's settings of a service (:mod:`common.settings.service`) plus its own."""

from pathlib import Path

from common.settings.base import DEBUG, ERP, INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, env, static_root
from common.settings.service import *  # noqa: F403 (the shared settings of a service)
from common.sso.conf import (
    admin_cookie_path,
    admin_csrf_cookie,
    admin_session_cookie,
    sso_client_id,
    sso_client_secret,
    sso_settings,
)

SERVICE_NAME = "inventory"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Inventory service"

# common.events: the outbox/inbox tables, the relay and consumer commands, the backlog
# report in readiness and /metrics.
INSTALLED_APPS += ["common.events", "inventory"]
# The item search's trigram indexes (inventory.models): the app renders their operator class (OpClass).
INSTALLED_APPS += ["django.contrib.postgres"]

# Stock is moved by the sales and purchase events (inventory.handlers); the consumer is "inventory".
# Up to BATCH_SIZE delivered events are applied in one transaction, their stock rows locked
# first in the lock order (common.events.consumer, "Batches"; docs/events.md): the sales of
# one popular item wait for its row lock once per batch instead of once per event.
ERP_EVENTS = {
    "HANDLERS": "inventory.handlers.HANDLERS",
    "BATCH_SIZE": int(env("ERP_EVENTS_BATCH_SIZE", "20")),
    "BATCH_LOCK": "inventory.handlers.stock_lock_for_batch",
}

# The order services, asked before an item is deleted whether an order still uses it (common.uses).
ERP["SALES_SERVICE_URL"] = env("SALES_SERVICE_URL", "http://127.0.0.1:8004")
ERP["PURCHASE_SERVICE_URL"] = env("PURCHASE_SERVICE_URL", "http://127.0.0.1:8005")

# The admin signs staff in through the identity provider (common.sso; docs/back-office.md),
# with cookies of its own name and path behind the gateway, as its own OIDC client.
SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
SSO = sso_settings(SERVICE_NAME)
