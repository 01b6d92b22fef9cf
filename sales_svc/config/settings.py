"""Settings of sales_svc: common's settings of a service (:mod:`common.settings.service`) plus its own."""

from pathlib import Path

from common.settings.base import DEBUG, ERP, INSTALLED_APPS, SPECTACULAR_SETTINGS
from common.settings.env import database_config, env, env_float, static_root
from common.settings.service import *  # noqa: F403 (the shared settings of a service)
from common.sso.conf import (
    admin_cookie_path,
    admin_csrf_cookie,
    admin_session_cookie,
    sso_client_id,
    sso_client_secret,
    sso_settings,
)

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
# Seconds after which a confirmed order still waiting for inventory's answer counts as stuck
# (sales.selectors.sales_order_list_stuck_pending: /metrics, the admin's filter).
ERP["PENDING_STUCK_AFTER"] = env_float("SALES_PENDING_STUCK_AFTER", 300.0)
ERP["METRICS_COLLECTORS"] = ["sales.metrics.StuckOrdersCollector"]

# The admin signs staff in through the identity provider (common.sso; docs/back-office.md),
# with cookies of its own name and path behind the gateway, as its own OIDC client.
SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
SSO = sso_settings(SERVICE_NAME)
