"""Env-driven settings shared by every service.

A service's ``config/settings.py`` calls :func:`service_settings` once and then adds
what is its own. Everything is read from the environment (CONTRACT §7); with
``DJANGO_DEBUG`` off, missing secrets stop the service at start-up with a clear
message instead of falling back to a default that would work in production.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_PREFIX = "insecure-dev-"


def env(name: str, default: str | None = None) -> str | None:
    """Return the environment variable, an empty value counting as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default, cast, kind: str):
    value = env(name)
    if value is None:
        return default
    try:
        return cast(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {value!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env(name)
    if value is None:
        return list(default or [])
    return [part.strip() for part in value.split(",") if part.strip()]


def data_dir() -> Path:
    """Return the folder for SQLite files, the filesystem broker, keys and logs.

    Every process of the platform must agree on it (keys, broker folder):
    :func:`service_settings` defaults ``ERP_DATA_DIR`` to ``.run/`` beside the service
    folders, wherever the process was started from.
    """
    path = Path(env("ERP_DATA_DIR", ".run")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """Return the service's own database URL.

    ``DATABASE_URL`` wins; else ``ERP_POSTGRES_URL`` names a server on which the
    service gets a database of its own (``<ERP_DB_PREFIX><service>``); else SQLite.
    """
    explicit = env("DATABASE_URL")
    if explicit:
        return explicit
    on_server = postgres_server_url(f"{env('ERP_DB_PREFIX', '')}{service}")
    if on_server:
        return on_server
    return f"sqlite:///{data_dir() / f'{service}.sqlite3'}"


def postgres_server_url(database: str) -> str | None:
    """Return the URL of ``database`` on the ``ERP_POSTGRES_URL`` server, or None without one."""
    server = env("ERP_POSTGRES_URL")
    if not server:
        return None
    # Replace the path only, so a query string (``?sslmode=require``) is kept.
    return urlunsplit(urlsplit(server)._replace(path=f"/{database}"))


def database_config(service: str) -> dict[str, Any]:
    """Return the ``DATABASES["default"]`` entry for :func:`database_url`."""
    config = dj_database_url.parse(database_url(service), conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"].endswith("sqlite3"):
        # Several processes (web, relay, consumer) share one file: wait for locks
        # instead of failing at once, and take the write lock at BEGIN so a
        # read-then-write transaction cannot deadlock on upgrade.
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
        config["CONN_MAX_AGE"] = 0
        config["CONN_HEALTH_CHECKS"] = False
    return config


def broker_url() -> str:
    """Return ``BROKER_URL`` or the kombu filesystem transport under the data dir."""
    explicit = env("BROKER_URL")
    if explicit:
        return explicit
    return "filesystem://"


def filesystem_broker_options() -> dict[str, Any]:
    """Return kombu's filesystem transport options, creating its folders under the data dir."""
    folder = data_dir() / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # Every process reads and writes the same folder: that is the shared "broker".
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # Exchange bindings live here; kombu's default is relative to the working directory.
        "control_folder": str(folder / "control"),
    }


def broker_transport_options() -> dict[str, Any]:
    return filesystem_broker_options() if broker_url().startswith("filesystem") else {}


def static_root(service: str) -> str:
    """Return where collectstatic puts files; made now so whitenoise finds it at start."""
    path = Path(env("DJANGO_STATIC_ROOT") or data_dir() / "static" / service)
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


MIN_SECRET_LENGTH = 32
_DEVELOPMENT_SECRET_PREFIXES = (INSECURE_SECRET_PREFIX, "django-insecure-")


def secret_key(debug: bool) -> str:
    """Return ``DJANGO_SECRET_KEY``; only with DEBUG may it be missing, short or a development default."""
    value = env("DJANGO_SECRET_KEY")
    if value and len(value) >= MIN_SECRET_LENGTH and not value.startswith(_DEVELOPMENT_SECRET_PREFIXES):
        return value
    if debug:
        return value or INSECURE_SECRET_PREFIX + "local-only-do-not-deploy"
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is missing, shorter than {MIN_SECRET_LENGTH} characters or a development default; "
        "set a real secret or DJANGO_DEBUG=1."
    )


def allowed_hosts(debug: bool) -> list[str]:
    hosts = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if debug else [])
    if not hosts:
        # Django would start and then answer 400 to every request: say why at start instead.
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off.")
    return hosts


def _read_key(name: str) -> str | None:
    inline = env(name)
    if inline:
        return inline.replace("\\n", "\n")
    path = env(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return None


def dev_key_paths() -> tuple[Path, Path]:
    folder = data_dir() / "keys"
    return folder / "jwt_private.pem", folder / "jwt_public.pem"


def ensure_dev_keypair() -> tuple[Path, Path]:
    """Generate the local run's RSA key pair into the data dir once.

    Several processes may start at once on a fresh data dir: an exclusive lock makes
    one of them generate the pair and the others wait for it, so a private key of
    one process never lands beside the public key of another.
    """
    private_path, public_path = dev_key_paths()
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    private_path.parent.mkdir(parents=True, exist_ok=True)
    with open(private_path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (private_path.exists() and public_path.exists()):
            _write_keypair(private_path, public_path)
    return private_path, public_path


def _write_keypair(private_path: Path, public_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Write to temporary names and rename so concurrent starters never see half a key.
    for path, pem, mode in ((private_path, private_pem, 0o600), (public_path, public_pem, 0o644)):
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        tmp.chmod(mode)
        tmp.replace(path)


def jwt_public_key(debug: bool) -> str:
    """Return the PEM that verifies tokens; with DEBUG, the local run's generated key pair."""
    key = _read_key("JWT_PUBLIC_KEY")
    if key:
        return key
    if debug:
        return ensure_dev_keypair()[1].read_text()
    raise ImproperlyConfigured("JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) is required when DJANGO_DEBUG is off.")


def jwt_private_key(debug: bool) -> str:
    """Return the signing key; only auth_svc ever calls this."""
    key = _read_key("JWT_PRIVATE_KEY")
    if key:
        return key
    if debug:
        return ensure_dev_keypair()[0].read_text()
    raise ImproperlyConfigured("JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE) is required when DJANGO_DEBUG is off.")


def service_settings(
    *,
    name: str,
    title: str,
    apps: list[str],
    base_dir: Path,
    with_database: bool = True,
    events: bool = False,
) -> dict[str, Any]:
    """Return the settings every service shares, to ``globals().update()`` in config.settings."""
    # <repo>/<service>/ -> <repo>/.run/, the local run's default, whatever the working directory.
    os.environ.setdefault("ERP_DATA_DIR", str(base_dir.parent / ".run"))
    debug = env_bool("DJANGO_DEBUG", False)
    jwt_issuer = env("JWT_ISSUER", "erp-auth")
    jwt_audience = env("JWT_AUDIENCE", "erp")
    installed = [
        # auth is needed even without a database: simplejwt imports its models.
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.staticfiles",
        "rest_framework",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "django_filters",
        "common",
    ]
    if with_database:
        installed = [
            "django.contrib.admin",
            "django.contrib.sessions",
            "django.contrib.messages",
            *installed,
            "common.idempotency",
        ]
    middleware = [
        "common.middleware.RequestIDMiddleware",
        "common.metrics.MetricsMiddleware",
        "django.middleware.security.SecurityMiddleware",
        # Serves admin and API-docs assets from gunicorn: no separate web server needed.
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    if with_database:
        middleware += [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "common.idempotency.middleware.IdempotencyMiddleware",
        ]
    middleware.append("django.middleware.clickjacking.XFrameOptionsMiddleware")

    settings: dict[str, Any] = {
        "SERVICE_NAME": name,
        "BASE_DIR": base_dir,
        "DEBUG": debug,
        "SECRET_KEY": secret_key(debug),
        "ALLOWED_HOSTS": allowed_hosts(debug),
        "INSTALLED_APPS": installed + apps,
        "MIDDLEWARE": middleware,
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "DATABASES": {"default": database_config(name)} if with_database else {},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LANGUAGE_CODE": "en-us",
        "STATIC_URL": "static/",
        "STATIC_ROOT": static_root(name),
        "WHITENOISE_USE_FINDERS": debug,
        "APPEND_SLASH": False,
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                    if with_database
                    else ["django.template.context_processors.request"],
                },
            }
        ],
        "BROKER_URL": broker_url(),
        "BROKER_TRANSPORT_OPTIONS": broker_transport_options(),
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": ["common.authentication.JWTAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["common.permissions.RolePermission"],
            "DEFAULT_RENDERER_CLASSES": [
                "common.renderers.EnvelopeJSONRenderer",
                "rest_framework.renderers.BrowsableAPIRenderer",
            ],
            "DEFAULT_PARSER_CLASSES": [
                "rest_framework.parsers.JSONParser",
                "rest_framework.parsers.FormParser",
                "rest_framework.parsers.MultiPartParser",
            ],
            "DEFAULT_PAGINATION_CLASS": "common.pagination.EnvelopePagination",
            "DEFAULT_FILTER_BACKENDS": [
                "django_filters.rest_framework.DjangoFilterBackend",
                "rest_framework.filters.SearchFilter",
                "rest_framework.filters.OrderingFilter",
            ],
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "EXCEPTION_HANDLER": "common.exceptions.envelope_exception_handler",
            "UNAUTHENTICATED_USER": None,
            "COERCE_DECIMAL_TO_STRING": False,
            "PAGE_SIZE": 10,
        },
        "SIMPLE_JWT": {
            "ALGORITHM": "RS256",
            "SIGNING_KEY": None,
            "VERIFYING_KEY": jwt_public_key(debug),
            "ISSUER": jwt_issuer,
            "AUDIENCE": jwt_audience,
            "USER_ID_CLAIM": "user_id",
            "USER_ID_FIELD": "id",
            "TOKEN_TYPE_CLAIM": "token_type",
            "JTI_CLAIM": "jti",
            "TOKEN_USER_CLASS": "common.authentication.TokenUser",
            "ACCESS_TOKEN_LIFETIME": _minutes(env_int("JWT_ACCESS_MINUTES", 15)),
            "REFRESH_TOKEN_LIFETIME": _minutes(env_int("JWT_REFRESH_MINUTES", 60 * 24 * 7)),
            "LEEWAY": 0,
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": title,
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
            "COMPONENT_SPLIT_REQUEST": True,
            "POSTPROCESSING_HOOKS": [
                "drf_spectacular.hooks.postprocess_schema_enums",
                "common.openapi.envelope_postprocessing_hook",
            ],
        },
        "ERP": {
            "SERVICE_SECRET": env("SERVICE_SECRET"),
            "AUTH_SERVICE_URL": env("AUTH_SERVICE_URL", "http://127.0.0.1:8002"),
            "HTTP_TIMEOUT": env_float("ERP_HTTP_TIMEOUT", 5.0),
            # Ready = the database answers; the broker and the outbox are reported, not required (CONTRACT §1).
            "READINESS_CHECKS": ["common.health.check_database"] if with_database else [],
        },
        "LOGGING": logging_config(debug),
    }
    if events:
        # The outbox/inbox tables, the relay and consumer commands, the backlog report.
        settings["INSTALLED_APPS"].insert(len(installed), "common.events")
    if not debug:
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def _minutes(value: int):
    from datetime import timedelta

    return timedelta(minutes=value)


def logging_config(debug: bool) -> dict[str, Any]:
    """Return JSON logging to stdout, each record carrying the request id."""
    level = env("LOG_LEVEL", "INFO")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "common.logging.RequestIDFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django.request": {"level": "ERROR"},
            "django.db.backends": {"level": "INFO"},
        },
    }
