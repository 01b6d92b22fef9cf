"""Settings of purchase_svc: common's settings of a service (:mod:`common.settings.service`) plus its own."""

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

SERVICE_NAME = "purchase"
BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {"default": database_config(SERVICE_NAME)}
STATIC_ROOT = static_root(SERVICE_NAME)
SPECTACULAR_SETTINGS["TITLE"] = "Purchase service"

# common.events: the outbox/inbox tables, the relay and consumer commands, the backlog
# report in readiness and /metrics; naming HANDLERS makes the service run a consumer.
INSTALLED_APPS += ["common.events", "purchasing"]
ERP_EVENTS = {"HANDLERS": "purchasing.handlers.HANDLERS"}

# /metrics: the receipts inventory refused to stock, for an operator to settle (common.metrics).
ERP["METRICS_COLLECTORS"] = ["purchasing.metrics.RefusedReceiptsCollector"]

# The services whose records orders reference (vendors and items), read with a service token.
ERP["CONTACT_SERVICE_URL"] = env("CONTACT_SERVICE_URL", "http://127.0.0.1:8001")
ERP["INVENTORY_SERVICE_URL"] = env("INVENTORY_SERVICE_URL", "http://127.0.0.1:8003")

# The admin signs staff in through the identity provider (common.sso; docs/back-office.md),
# with cookies of its own name and path behind the gateway, as its own OIDC client.
SESSION_COOKIE_NAME = admin_session_cookie(SERVICE_NAME)
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = admin_cookie_path(SERVICE_NAME)
CSRF_COOKIE_NAME = admin_csrf_cookie(SERVICE_NAME)
OIDC_RP_CLIENT_ID = sso_client_id(SERVICE_NAME)
OIDC_RP_CLIENT_SECRET = sso_client_secret(DEBUG)
SSO = sso_settings(SERVICE_NAME)
