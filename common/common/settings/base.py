"""The settings every process shares: the gateway's ``config/settings.py`` star-imports this.

A service with a database and an admin star-imports :mod:`common.settings.service` instead
(this, plus the admin's single sign-on), names itself and assigns what is its own, by name
(see any ``*_svc/config/settings.py``)::

    from common.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS
    from common.settings.env import database_config, static_root
    from common.settings.service import *  # noqa: F403

    SERVICE_NAME = "contact"
    BASE_DIR = Path(__file__).resolve().parent.parent
    DATABASES = {"default": database_config(SERVICE_NAME)}
    STATIC_ROOT = static_root(SERVICE_NAME)
    INSTALLED_APPS += ["contacts"]
    SPECTACULAR_SETTINGS["TITLE"] = "Contact service"
    SSO = sso_settings(SERVICE_NAME)  # and the admin's cookies and client (common.sso.conf)

No function here or in :mod:`.env` writes a module's globals: each returns a value that a
settings module assigns to a name, so every setting can be found by its name.

Everything is read from the environment (contract §7, :mod:`common.settings.env`); with
``DJANGO_DEBUG`` off a missing secret, key or host list stops the import with a clear message.
"""

from datetime import timedelta

from .env import (
    allowed_hosts,
    broker_transport_options,
    broker_url,
    debug,
    env,
    env_bool,
    env_float,
    env_int,
    env_list,
    jwt_public_key,
    logging_config,
    secret_key,
    time_zone,
)

DEBUG = debug()
SECRET_KEY = secret_key(DEBUG)
ALLOWED_HOSTS = allowed_hosts(DEBUG)
# Origins whose forms (the back office) may post, e.g. https://erp.example.com: the browser's
# Origin names the public host, not the service behind the gateway.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# TLS at the edge (docs/deployment.md): a proxy in front of the gateway (the Kubernetes
# Ingress, a load balancer) terminates HTTPS. Then cookies travel over HTTPS only and
# browsers are told to keep to it (HSTS). On by default without DEBUG; the compose example,
# served over plain HTTP on localhost, and the local run turn it off (ERP_TLS_EDGE=0).
# No SECURE_SSL_REDIRECT: the edge redirects, and probes speak plain HTTP to the pods.
TLS_EDGE = env_bool("ERP_TLS_EDGE", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = TLS_EDGE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000 if TLS_EDGE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # security.W008 (SECURE_SSL_REDIRECT off): the TLS edge redirects HTTP, see above.
    "security.W008",
]

# What a process without a database (the gateway) needs. django.contrib.auth is among
# them because simplejwt imports its models.
STATELESS_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "common",
]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    *STATELESS_APPS,
    "common.idempotency",
    # The admins' single sign-on client (common.sso), after django.contrib.auth.
    "mozilla_django_oidc",
]

# What every process runs, the gateway included, outermost first.
REQUEST_MIDDLEWARE = [
    "common.middleware.RequestIDMiddleware",
    # Inside the request id, around everything else: one JSON line per request.
    "common.access_log.AccessLogMiddleware",
    "common.metrics.MetricsMiddleware",
    "common.middleware.RequestBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves admin and API-docs assets from gunicorn: no separate web server needed (WhiteNoise).
    "common.middleware.StaticFilesMiddleware",
    "django.middleware.common.CommonMiddleware",
]
# A service's, with its database and its admin (the gateway names its own, without them).
MIDDLEWARE = [
    # The admin behind the gateway's /admin/<service>/: the mount point as script prefix (common.sso).
    "common.sso.middleware.GatewayPrefixMiddleware",
    *REQUEST_MIDDLEWARE,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Once the user is known: a staff session the identity provider no longer backs ends (common.sso).
    "common.sso.middleware.StaffRecheckMiddleware",
    # The admin in the staff member's time zone (from the session), the API in UTC.
    "common.timezones.StaffTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "common.idempotency.middleware.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# DJANGO_TIME_ZONE: how the admin shows dates to staff who chose no zone (the API stays UTC).
TIME_ZONE = time_zone()
LANGUAGE_CODE = "en-us"
APPEND_SLASH = False
# Bodies over this are a 413 (common.middleware.RequestBodyMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ERP_MAX_BODY_BYTES", 1024 * 1024)
# ... except on the CSV imports (contract §2), which take up to ERP_MAX_IMPORT_BODY_BYTES: the API's
# (/items/import at a service, /api/items/import at the gateway) and the admins' import pages
# (.../item/import/). Matched with re.search on the path each server sees (common.wsgi.body_limit).
IMPORT_BODY_PATHS = r"(?:^|/)(?:items|customers|vendors)/import$|/(?:item|customer|vendor)/import/$"
IMPORT_MAX_BODY_BYTES = env_int("ERP_MAX_IMPORT_BODY_BYTES", 16 * 1024 * 1024)
# ... and at most this many rows (common.csvfiles): what a worker checks and writes within the gateway's
# GATEWAY_IMPORT_TIMEOUT and its memory limit (docs/performance.md); 16 MiB of short rows is two million.
IMPORT_MAX_ROWS = env_int("ERP_MAX_IMPORT_ROWS", 100_000)
STATIC_URL = "static/"
# In DEBUG the files are found where the apps keep them, as each is asked for. WhiteNoise's own
# AUTOREFRESH default reads DEBUG when the middleware starts, which a test run has turned off: it
# then walked every app's files on every start of the middleware (each test client's), a fifth of
# a service suite's time.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

BROKER_URL = broker_url()
BROKER_TRANSPORT_OPTIONS = broker_transport_options()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["common.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["common.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": [
        "common.renderers.EnvelopeJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # No endpoint takes files: a multipart body is a 415 (contract §2). Forms are what the
    # browsable API posts.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    # APIClient would post multipart (now a 415) when a test names no format.
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.EnvelopePagination",
    # The one filtering style (common.filters): filterset_class, search_fields, ordering_fields.
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "common.filters.SearchFilter",
        "common.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "PAGE_SIZE": 10,
}

# Every service verifies auth_svc's RS256 tokens with the public key; only auth_svc signs.
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": None,
    "VERIFYING_KEY": jwt_public_key(DEBUG),
    "ISSUER": env("JWT_ISSUER", "erp-auth"),
    "AUDIENCE": env("JWT_AUDIENCE", "erp"),
    "USER_ID_CLAIM": "user_id",
    "USER_ID_FIELD": "id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "TOKEN_USER_CLASS": "common.authentication.TokenUser",
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_REFRESH_MINUTES", 60 * 24 * 7)),
    "LEEWAY": 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ERP service",  # each service names itself
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's default sends the schema's URL to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.envelope_postprocessing_hook",
    ],
}

ERP = {
    "SERVICE_SECRET": env("SERVICE_SECRET"),
    "AUTH_SERVICE_URL": env("AUTH_SERVICE_URL", "http://127.0.0.1:8002"),
    "HTTP_TIMEOUT": env_float("ERP_HTTP_TIMEOUT", 5.0),
    # A kept-alive connection to another service idle longer is retired, not reused: under the
    # services' gunicorn keepalive (5 s), so no upstream closes one under a call (common.upstream_pools).
    "HTTP_IDLE_SECONDS": env_float("ERP_HTTP_IDLE_SECONDS", 2.0),
    # Ready = the database answers; the broker and the outbox backlog are reported in the
    # readiness body and /metrics, never a reason to be unready (contract §1, common.health).
    "READINESS_CHECKS": ["common.health.check_database", "common.withdrawals.check_access_withdrawals"],
    # Withdrawn access (common.withdrawals, contract §3): where the map comes from, and how often.
    "ACCESS_WITHDRAWALS_FETCH": "common.withdrawals.fetch_from_auth",
    "ACCESS_WITHDRAWALS_POLL_SECONDS": env_float("ERP_ACCESS_WITHDRAWALS_POLL_SECONDS", 2.0),
    # Past this age of its last successful poll a process answers user tokens 503 and is not
    # ready: a withdrawal since may be unknown, and the promise is 5 s (contract §3).
    "ACCESS_WITHDRAWALS_MAX_AGE_SECONDS": env_float("ERP_ACCESS_WITHDRAWALS_MAX_AGE_SECONDS", 5.0),
    # Failed polls are retried after the poll interval doubled per failure, up to this.
    "ACCESS_WITHDRAWALS_BACKOFF_MAX_SECONDS": env_float("ERP_ACCESS_WITHDRAWALS_BACKOFF_MAX_SECONDS", 10.0),
    # Access tokens kept once verified, until their exp (common.verified_tokens); 0: verify every time.
    "VERIFIED_TOKENS_CACHE_SIZE": env_int("ERP_VERIFIED_TOKENS_CACHE_SIZE", 1024),
}

LOGGING = logging_config()
