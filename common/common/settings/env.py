"""Read the environment (contract §7) into setting values, without side effects.

With ``DJANGO_DEBUG`` off, a missing secret, key or host list raises ImproperlyConfigured
while the settings are imported, so the service stops at start with a clear message
instead of running on a default that would work in production.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_PREFIX = "insecure-dev-"
MIN_SECRET_LENGTH = 32
_DEVELOPMENT_SECRET_PREFIXES = (INSECURE_SECRET_PREFIX, "django-insecure-")
# <repo>/common/common/settings/env.py -> <repo>: the local run's data dir is <repo>/.run,
# whatever the working directory of the process (every process must agree on it).
REPO_ROOT = Path(__file__).resolve().parents[3]


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


def zone_named(name) -> ZoneInfo | None:
    """Return the IANA time zone called ``name`` ("Europe/Berlin"), or None for anything else."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone key at all ("../x")
        return None


def time_zone() -> str:
    """Return ``DJANGO_TIME_ZONE`` (default ``UTC``): the back office's dates for staff who chose none.

    The API answers in UTC whatever this says (contract §2; common.timezones).
    """
    name = env("DJANGO_TIME_ZONE", "UTC")
    if zone_named(name) is None:
        raise ImproperlyConfigured(f"DJANGO_TIME_ZONE must be an IANA time zone such as Europe/Berlin, got {name!r}")
    return name


def data_dir() -> Path:
    """Return the folder for SQLite files, the filesystem broker, keys and logs (not created here)."""
    return Path(env("ERP_DATA_DIR") or REPO_ROOT / ".run").expanduser().resolve()


def postgres_server_url(database: str) -> str | None:
    """Return the URL of ``database`` on the ``ERP_POSTGRES_URL`` server, or None without one."""
    server = env("ERP_POSTGRES_URL")
    if not server:
        return None
    # Replace the path only, so a query string (``?sslmode=require``) is kept.
    return urlunsplit(urlsplit(server)._replace(path=f"/{database}"))


def debug() -> bool:
    """Return ``DJANGO_DEBUG`` (default off): the one reading of it (``common.settings.base.DEBUG``)."""
    return env_bool("DJANGO_DEBUG", False)


def sqlite_url(service: str, folder: Path | None = None) -> str:
    """Return the URL of the service's SQLite file in ``folder`` (default: the data dir)."""
    return f"sqlite:///{(folder or data_dir()) / f'{service}.sqlite3'}"


def database_url(service: str) -> str:
    """Return the service's own database URL.

    ``DATABASE_URL`` wins; else ``ERP_POSTGRES_URL`` names a server on which the
    service gets a database of its own (``<ERP_DB_PREFIX><service>``); else, with DEBUG
    only, SQLite in the data dir. Without DEBUG a database is never guessed: a container
    whose URL is missing would otherwise keep its data in a file of its own and lose it
    with the container (the local run names its SQLite files, scripts/run.py).
    """
    explicit = env("DATABASE_URL")
    if explicit:
        return explicit
    on_server = postgres_server_url(f"{env('ERP_DB_PREFIX', '')}{service}")
    if on_server:
        return on_server
    if not debug():
        raise ImproperlyConfigured("DATABASE_URL (or ERP_POSTGRES_URL) is required when DJANGO_DEBUG is off.")
    return sqlite_url(service)


DATABASE_CONNECT_TIMEOUT = 3  # seconds (libpq counts whole seconds; 2 at least)
# psycopg's default: a statement is prepared on its sixth run on a connection (Django turns it off).
PREPARE_THRESHOLD = 5


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
    else:
        # libpq waits for ever by default for a server that accepted the TCP connection
        # and never answers (a half-open link): a worker or a health check would hang in
        # connect. A ?connect_timeout= in the URL wins.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        # Parameters bound by the server, so that psycopg prepares a statement run five times on a
        # connection: PostgreSQL then skips parsing and planning it (docs/performance.md). A statement
        # that a migration made stale is planned again (common.prepared_statements). Off, Django's
        # defaults (bound by the client, nothing prepared), for a pooler that cannot carry them
        # (ERP_DB_PREPARED_STATEMENTS=0: PgBouncer before 1.21): binding on the server without
        # preparing is slower than neither.
        if env_bool("ERP_DB_PREPARED_STATEMENTS", True):
            config["OPTIONS"].setdefault("server_side_binding", True)
            config["OPTIONS"].setdefault("prepare_threshold", PREPARE_THRESHOLD)
        pool = database_pool_options()
        if pool:
            config["OPTIONS"]["pool"] = pool
            # Django's pool replaces persistent connections (it refuses both at once).
            config["CONN_MAX_AGE"] = 0
    return config


def database_pool_options() -> dict[str, Any] | None:
    """Return the psycopg pool of a web server's process (``ERP_DB_POOL=1``), or None.

    Without it every gunicorn thread keeps a connection of its own for ``CONN_MAX_AGE``;
    with it a process holds at most ``ERP_DB_POOL_MAX_SIZE`` (threads wait up to
    ``ERP_DB_POOL_TIMEOUT`` s for one) and idle ones close after ``ERP_DB_POOL_MAX_IDLE`` s
    down to ``ERP_DB_POOL_MIN_SIZE``. scripts/gunicorn.conf.py turns it on for every web
    server; the relay, the consumer and the mailer are single-threaded (one connection
    each) and keep theirs. PgBouncer is not used: its transaction mode breaks the relay's
    LISTEN, and a pool inside the process needs no other server. See deploy/k8s/README.md.
    """
    if not env_bool("ERP_DB_POOL", False):
        return None
    return {
        "min_size": env_int("ERP_DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("ERP_DB_POOL_MAX_SIZE", env_int("GUNICORN_THREADS", 4)),
        "max_idle": env_float("ERP_DB_POOL_MAX_IDLE", 60.0),
        "timeout": env_float("ERP_DB_POOL_TIMEOUT", 10.0),
    }


def broker_url() -> str:
    """Return ``BROKER_URL``; with DEBUG only it may be missing: then kombu's filesystem transport.

    Without DEBUG it is never guessed: a relay on a missing URL would mark its events sent
    into a folder of its own container that no consumer reads (the local run names
    ``filesystem://``, scripts/run.py).
    """
    value = env("BROKER_URL")
    if value:
        return value
    if not debug():
        raise ImproperlyConfigured("BROKER_URL is required when DJANGO_DEBUG is off.")
    return "filesystem://"


def filesystem_broker_options(folder: Path) -> dict[str, Any]:
    """Return kombu's filesystem transport options for the broker folder ``folder``.

    Every process reads and writes the same folder: that is the shared "broker". Its
    sub-folders must exist (the local run makes them, see :func:`filesystem_broker_folders`).
    """
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # Exchange bindings live here; kombu's default is relative to the working directory.
        "control_folder": str(folder / "control"),
    }


def filesystem_broker_folders(options: dict[str, Any]) -> list[Path]:
    """Return the folders :func:`filesystem_broker_options` names, for whoever creates them."""
    return sorted({Path(options[key]) for key in ("data_folder_in", "processed_folder", "control_folder")})


def broker_transport_options() -> dict[str, Any]:
    return filesystem_broker_options(data_dir() / "broker") if broker_url().startswith("filesystem") else {}


def static_root(service: str) -> str:
    """Return where collectstatic puts the service's files (``DJANGO_STATIC_ROOT`` in an image)."""
    return str(env("DJANGO_STATIC_ROOT") or data_dir() / "static" / service)


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


def local_key_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """Return where the local run keeps its key pair: ``<data dir>/keys/jwt_{private,public}.pem``."""
    folder = folder or data_dir() / "keys"
    return folder / "jwt_private.pem", folder / "jwt_public.pem"


def _read_key(name: str, debug: bool, local_path: Path) -> str | None:
    """Return the PEM in ``<name>`` or the file ``<name>_FILE``; with DEBUG, the local run's if made."""
    inline = env(name)
    if inline:
        return inline.replace("\\n", "\n")
    path = env(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    if debug and local_path.exists():
        return local_path.read_text()
    if debug:
        # A DEBUG process without keys (collectstatic in an image build) starts; tokens fail
        # to verify, and the system check common.W001 says why.
        return None
    raise ImproperlyConfigured(f"{name} (or {name}_FILE) is required when DJANGO_DEBUG is off.")


def jwt_public_key(debug: bool) -> str | None:
    """Return the PEM that verifies tokens."""
    return _read_key("JWT_PUBLIC_KEY", debug, local_key_paths()[1])


def jwt_private_key(debug: bool) -> str | None:
    """Return the signing key; only auth_svc ever calls this."""
    return _read_key("JWT_PRIVATE_KEY", debug, local_key_paths()[0])


def logging_config() -> dict[str, Any]:
    """Return JSON logging to stdout, each record carrying the request id."""
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
        "root": {"handlers": ["stdout"], "level": env("LOG_LEVEL", "INFO")},
        "loggers": {
            "django.request": {"level": "ERROR"},
            "django.db.backends": {"level": "INFO"},
        },
    }
