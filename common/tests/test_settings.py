"""Settings: the environment readers, the production checks, and imports without side effects.

The readers are called with a monkeypatched environment; what a settings module does on
import is observed in a fresh interpreter (Django's own settings are never reloaded).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from common.keys import ensure_keypair
from common.settings import env as erp_env
from erp_testkit.settings import environment_for_tests, use_test_environment

REPO = Path(__file__).resolve().parents[2]
SERVICE_FOLDERS = ["auth_svc", "contact_svc", "inventory_svc", "sales_svc", "purchase_svc", "gateway"]
ENV_NAMES = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "JWT_PUBLIC_KEY",
    "JWT_PUBLIC_KEY_FILE",
    "JWT_PRIVATE_KEY",
    "JWT_PRIVATE_KEY_FILE",
    "DATABASE_URL",
    "ERP_POSTGRES_URL",
    "ERP_DB_PREFIX",
    "BROKER_URL",
    "ERP_HTTP_TIMEOUT",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_STATIC_ROOT",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "ERP_TLS_EDGE",
    "ERP_DB_POOL",
    "ERP_DB_POOL_MAX_SIZE",
    "GUNICORN_THREADS",
    "SSO_CLIENT_SECRET",
]
REAL_SECRET = "a-real-secret-of-forty-characters-000000"
PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment whose data dir is a temporary folder."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path))
    return monkeypatch


# What a settings module does on import, in a fresh interpreter: the environment before and
# after, and the settings' key values, as JSON on stdout.
IMPORT_PROBE = """
import importlib, json, os, sys
before = dict(os.environ)
module = importlib.import_module(sys.argv[1])
print(json.dumps({
    "environ_changed": sorted(set(os.environ.items()) ^ set(before.items())),
    "debug": module.DEBUG,
    "verifying_key": module.SIMPLE_JWT["VERIFYING_KEY"],
    "signing_key": module.SIMPLE_JWT["SIGNING_KEY"],
    "secret_key": module.SECRET_KEY,
}))
"""


def _import_settings(module: str, folder: Path, **environ: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in ENV_NAMES and name != "ERP_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, module],
        cwd=folder,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _production(tmp_path, **values) -> subprocess.CompletedProcess:
    environ = {
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "erp.example",
        "ERP_DATA_DIR": str(tmp_path),
        "BROKER_URL": "amqp://erp:secret@rabbitmq:5672//",
        **values,
    }
    return _import_settings("common.settings.base", tmp_path, **{k: v for k, v in environ.items() if v})


def _stopped_with(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last.removeprefix("django.core.exceptions.ImproperlyConfigured: ")


def test_production_without_a_secret_key_stops(tmp_path):
    result = _production(tmp_path, JWT_PUBLIC_KEY=PUBLIC_PEM)

    assert _stopped_with(result) == (
        "DJANGO_SECRET_KEY is missing, shorter than 32 characters or a development default; "
        "set a real secret or DJANGO_DEBUG=1."
    )


@pytest.mark.parametrize(
    "secret",
    [
        "insecure-dev-local-only-do-not-deploy-000000",
        "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz",
        "short-secret",
    ],
)
def test_production_with_a_development_or_short_secret_key_stops(env, secret):
    env.setenv("DJANGO_SECRET_KEY", secret)

    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is missing, shorter than 32 characters"):
        erp_env.secret_key(debug=False)


def test_production_without_allowed_hosts_stops(tmp_path):
    result = _production(tmp_path, JWT_PUBLIC_KEY=PUBLIC_PEM, DJANGO_SECRET_KEY=REAL_SECRET, DJANGO_ALLOWED_HOSTS="")

    assert _stopped_with(result) == "DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off."


def test_production_without_the_public_key_stops_even_beside_a_local_pair(tmp_path):
    # given the local run's key pair in the data dir (only DEBUG may fall back to it)
    ensure_keypair(tmp_path / "keys")

    # when
    result = _production(tmp_path, DJANGO_SECRET_KEY=REAL_SECRET)

    # then
    assert _stopped_with(result) == "JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) is required when DJANGO_DEBUG is off."


def _production_service(folder: str, tmp_path) -> subprocess.CompletedProcess:
    """Import a service's settings with DEBUG off, a real secret and a public key, nothing else."""
    return _import_settings(
        "config.settings",
        REPO / folder,
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="erp.example",
        DJANGO_SECRET_KEY=REAL_SECRET,
        JWT_PUBLIC_KEY=PUBLIC_PEM,
        ERP_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/auth.sqlite3",
        BROKER_URL="filesystem://",
    )


def test_production_auth_svc_without_the_private_key_stops(tmp_path):
    result = _production_service("auth_svc", tmp_path)

    assert _stopped_with(result) == "JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE) is required when DJANGO_DEBUG is off."


def test_production_admin_without_its_sso_client_secret_stops(tmp_path):
    result = _production_service("contact_svc", tmp_path)

    assert _stopped_with(result) == (
        "SSO_CLIENT_SECRET is required when DJANGO_DEBUG is off (the admin's OIDC client)."
    )


def test_production_with_an_unreadable_key_file_stops(env, tmp_path):
    env.setenv("JWT_PUBLIC_KEY_FILE", str(tmp_path / "missing.pem"))

    with pytest.raises(ImproperlyConfigured, match=r"^JWT_PUBLIC_KEY_FILE=.*missing\.pem cannot be read"):
        erp_env.jwt_public_key(debug=False)


def test_production_settings_verify_only(tmp_path):
    # given
    key_file = tmp_path / "public.pem"
    key_file.write_text(PUBLIC_PEM)

    # when
    result = _production(tmp_path, DJANGO_SECRET_KEY=REAL_SECRET, JWT_PUBLIC_KEY_FILE=str(key_file))

    # then
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "environ_changed": [],
        "debug": False,
        "verifying_key": PUBLIC_PEM,
        "signing_key": None,
        "secret_key": REAL_SECRET,
    }


@pytest.mark.parametrize("folder", SERVICE_FOLDERS)
def test_importing_a_services_settings_changes_nothing(tmp_path, folder):
    # given a data dir that does not exist yet, and DEBUG without any key
    data = tmp_path / "data"

    # when
    result = _import_settings("config.settings", REPO / folder, DJANGO_DEBUG="1", ERP_DATA_DIR=str(data))

    # then: no environment variable set, no folder made, no key pair generated
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["environ_changed"] == []
    assert probe["verifying_key"] is None
    assert not data.exists()


TEST_SETTINGS = [(REPO / folder, "config.settings_test") for folder in SERVICE_FOLDERS] + [
    (REPO / "common", "tests.project.settings_test")
]


@pytest.mark.parametrize(("folder", "module"), TEST_SETTINGS, ids=lambda value: getattr(value, "name", value))
def test_a_suites_test_settings_load_with_nothing_exported(folder, module):
    # given: nothing but a path (what plain `pytest` in a fresh shell has)
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}

    # when
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, module], cwd=folder, env=bare, capture_output=True, text=True, timeout=60
    )

    # then: the test defaults scripts/test.sh exports, and nothing else
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert dict(probe["environ_changed"]) == {
        "DJANGO_DEBUG": "1",
        "ERP_POSTGRES_URL": "postgres://postgres@127.0.0.1:5432",
        "ERP_DB_PREFIX": "erp_",
        "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        "ERP_DATA_DIR": str(REPO / ".run" / "test"),
        "ERP_REPO_ROOT": str(REPO),
    }
    assert probe["debug"] is True


def test_the_test_environment_takes_scripts_test_sh_overrides(env):
    # given: what scripts/test.sh passes on
    env.delenv("ERP_DATA_DIR")
    env.setenv("ERP_TEST_POSTGRES_URL", "postgres://tester@db.example:5433")
    env.setenv("ERP_TEST_DB_PREFIX", "h1_")
    env.setenv("ERP_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/h1")

    # when
    values = environment_for_tests()

    # then
    assert (values["ERP_POSTGRES_URL"], values["ERP_DB_PREFIX"], values["BROKER_URL"]) == (
        "postgres://tester@db.example:5433",
        "h1_",
        "amqp://guest:guest@127.0.0.1:5672/h1",
    )


def test_the_test_environment_never_replaces_what_is_exported(env):
    # given: scripts/test.sh exported its own values already
    env.setenv("DJANGO_DEBUG", "1")
    env.setenv("ERP_DB_PREFIX", "exported_")
    env.setenv("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/exported")
    env.delenv("ERP_POSTGRES_URL", raising=False)
    env.delenv("ERP_REPO_ROOT", raising=False)  # (monkeypatch puts every name it touched back)

    # when
    use_test_environment()

    # then: what was exported stays; what was missing is supplied
    assert (os.environ["ERP_DB_PREFIX"], os.environ["BROKER_URL"]) == (
        "exported_",
        "amqp://guest:guest@127.0.0.1:5672/exported",
    )
    assert os.environ["ERP_POSTGRES_URL"] == "postgres://postgres@127.0.0.1:5432"


def test_debug_falls_back_to_the_local_runs_key_pair(env, tmp_path):
    # given the pair `python -m common.keys` makes in the data dir
    env.setenv("DJANGO_DEBUG", "1")
    subprocess.run([sys.executable, "-m", "common.keys"], check=True, capture_output=True, timeout=60)

    # when
    public = erp_env.jwt_public_key(debug=True)
    private = erp_env.jwt_private_key(debug=True)

    # then
    assert public == (tmp_path / "keys" / "jwt_public.pem").read_text()
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "keys" / "jwt_private.pem").stat().st_mode & 0o777 == 0o600
    assert erp_env.secret_key(debug=True).startswith("insecure-dev-")


def test_inline_keys_may_carry_escaped_newlines(env):
    env.setenv("JWT_PUBLIC_KEY", PUBLIC_PEM.replace("\n", "\\n"))

    assert erp_env.jwt_public_key(debug=False) == PUBLIC_PEM


def _ensure_keys(folder: str) -> tuple[str, str]:
    private_path, public_path = ensure_keypair(Path(folder))
    return private_path.read_text(), public_path.read_text()


def test_processes_starting_at_once_share_one_matching_key_pair(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from cryptography.hazmat.primitives import serialization

    # when four processes ask for the key pair of a fresh folder at the same moment
    with ProcessPoolExecutor(4) as pool:
        pairs = set(pool.map(_ensure_keys, [str(tmp_path / "keys")] * 4))

    # then they all got the same pair, and its halves belong together
    assert len(pairs) == 1
    private_pem, public_pem = pairs.pop()
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        == public_pem
    )


def test_data_dir_defaults_to_run_at_the_repository_root(env):
    env.delenv("ERP_DATA_DIR")

    assert erp_env.data_dir() == REPO / ".run"


def test_database_url_prefers_database_url(env):
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

    assert erp_env.database_url("contact") == "postgres://app@db:5432/contacts"


def test_database_url_then_erp_postgres_url_with_prefix(env):
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
    env.setenv("ERP_DB_PREFIX", "erp_")

    assert erp_env.database_url("contact") == "postgres://postgres@127.0.0.1:5432/erp_contact"


def test_database_url_erp_postgres_url_without_prefix_keeps_the_query(env):
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@db.example:5432/postgres?sslmode=require")

    assert erp_env.database_url("contact") == "postgres://postgres@db.example:5432/contact?sslmode=require"


def test_database_url_with_debug_falls_back_to_sqlite_under_the_data_dir(env, tmp_path):
    env.setenv("DJANGO_DEBUG", "1")

    assert erp_env.database_url("contact") == f"sqlite:///{tmp_path}/contact.sqlite3"


def test_database_url_without_debug_is_never_guessed(env):
    # a container whose DATABASE_URL is missing (an empty Secret key) would keep its data in a
    # SQLite file of its own and lose it with the container
    with pytest.raises(ImproperlyConfigured) as stopped:
        erp_env.database_url("contact")

    assert str(stopped.value) == "DATABASE_URL (or ERP_POSTGRES_URL) is required when DJANGO_DEBUG is off."


def test_production_service_without_a_database_url_stops(tmp_path):
    result = _import_settings(
        "config.settings",
        REPO / "sales_svc",
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="sales",
        DJANGO_SECRET_KEY=REAL_SECRET,
        JWT_PUBLIC_KEY=PUBLIC_PEM,
        ERP_DATA_DIR=str(tmp_path),
        BROKER_URL="amqp://erp:secret@rabbitmq:5672//",
    )

    assert _stopped_with(result) == "DATABASE_URL (or ERP_POSTGRES_URL) is required when DJANGO_DEBUG is off."


def test_sqlite_config_waits_for_locks(env, tmp_path):
    env.setenv("DATABASE_URL", erp_env.sqlite_url("contact", tmp_path))
    config = erp_env.database_config("contact")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["CONN_MAX_AGE"] == 0


def test_postgres_config_bounds_the_connect_so_a_half_open_server_cannot_hang_a_process(env):
    # given
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    # when
    config = erp_env.database_config("contact")
    # then: and parameters bound by the server, prepared on a statement's sixth run (common.prepared_statements)
    assert config["OPTIONS"] == {"connect_timeout": 3, "server_side_binding": True, "prepare_threshold": 5}


def test_postgres_connect_timeout_from_the_url_wins(env):
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts?connect_timeout=2")

    assert erp_env.database_config("contact")["OPTIONS"]["connect_timeout"] in (2, "2")


def test_broker_with_debug_defaults_to_the_filesystem_transport_in_the_data_dir(env, tmp_path):
    env.setenv("DJANGO_DEBUG", "1")

    assert erp_env.broker_url() == "filesystem://"
    assert erp_env.broker_transport_options() == {
        "data_folder_in": f"{tmp_path}/broker/out",
        "data_folder_out": f"{tmp_path}/broker/out",
        "processed_folder": f"{tmp_path}/broker/processed",
        "store_processed": False,
        "control_folder": f"{tmp_path}/broker/control",
    }
    assert erp_env.filesystem_broker_folders(erp_env.broker_transport_options()) == [
        tmp_path / "broker" / "control",
        tmp_path / "broker" / "out",
        tmp_path / "broker" / "processed",
    ]
    assert not (tmp_path / "broker").exists()


def test_broker_url_without_debug_is_never_guessed(env):
    # a relay on a missing URL would mark its events sent into a folder no consumer reads
    with pytest.raises(ImproperlyConfigured) as stopped:
        erp_env.broker_url()

    assert str(stopped.value) == "BROKER_URL is required when DJANGO_DEBUG is off."


def test_production_without_a_broker_url_stops(tmp_path):
    result = _production(tmp_path, DJANGO_SECRET_KEY=REAL_SECRET, JWT_PUBLIC_KEY=PUBLIC_PEM, BROKER_URL="")

    assert _stopped_with(result) == "BROKER_URL is required when DJANGO_DEBUG is off."


def test_broker_url_from_the_environment(env):
    env.setenv("BROKER_URL", "amqp://guest:guest@rabbit:5672//")

    assert erp_env.broker_url() == "amqp://guest:guest@rabbit:5672//"
    assert erp_env.broker_transport_options() == {}


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("", False)])
def test_env_bool(env, value, expected):
    env.setenv("DJANGO_DEBUG", value)

    assert erp_env.env_bool("DJANGO_DEBUG") is expected


def test_a_malformed_number_stops_with_its_name(env):
    env.setenv("ERP_HTTP_TIMEOUT", "soon")

    with pytest.raises(ImproperlyConfigured, match="ERP_HTTP_TIMEOUT must be a number, got 'soon'"):
        erp_env.env_float("ERP_HTTP_TIMEOUT", 5.0)


def test_a_web_server_pools_its_connections_up_to_its_threads(env):
    # given what scripts/gunicorn.conf.py sets for a server of 8 threads
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    env.setenv("ERP_DB_POOL", "1")
    env.setenv("GUNICORN_THREADS", "8")
    # when
    config = erp_env.database_config("contact")
    # then: a bounded pool per process instead of a persistent connection per thread
    assert config["OPTIONS"] == {
        "connect_timeout": 3,
        "server_side_binding": True,
        "prepare_threshold": 5,
        "pool": {"min_size": 1, "max_size": 8, "max_idle": 60.0, "timeout": 10.0},
    }
    assert config["CONN_MAX_AGE"] == 0


def test_the_pool_size_is_its_own_setting(env):
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    env.setenv("ERP_DB_POOL", "1")
    env.setenv("ERP_DB_POOL_MAX_SIZE", "2")

    assert erp_env.database_config("contact")["OPTIONS"]["pool"]["max_size"] == 2


def test_sqlite_is_never_pooled(env, tmp_path):
    env.setenv("ERP_DB_POOL", "1")
    env.setenv("DATABASE_URL", erp_env.sqlite_url("contact", tmp_path))

    assert "pool" not in erp_env.database_config("contact")["OPTIONS"]


def _deploy_check(tmp_path, **values) -> subprocess.CompletedProcess:
    """``manage.py check --deploy`` of contact_svc in production mode, warnings failing."""
    _, public_key = ensure_keypair(tmp_path / "keys")
    skipped = {*ENV_NAMES, "ERP_DATA_DIR", "DJANGO_SETTINGS_MODULE"}
    clean = {name: value for name, value in os.environ.items() if name not in skipped}
    environ = {
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "contact",
        # Django's own check asks for 50 characters (ours stops below 32); make_env writes 67.
        "DJANGO_SECRET_KEY": REAL_SECRET * 2,
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "ERP_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/contact.sqlite3",
        # The admin's single sign-on client: production refuses to start without its secret.
        "SSO_CLIENT_SECRET": REAL_SECRET,
        "ERP_PUBLIC_URL": "https://erp.example",
        "BROKER_URL": "amqp://erp:secret@rabbitmq:5672//",
        **values,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO / "contact_svc",
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_behind_tls_passes_djangos_deployment_checks(tmp_path):
    # when: DEBUG off, TLS at the edge by default, the domain's own HSTS choices made
    result = _deploy_check(
        tmp_path,
        DJANGO_CSRF_TRUSTED_ORIGINS="https://erp.example",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        DJANGO_SECURE_HSTS_PRELOAD="1",
    )
    # then: secure cookies, HSTS, nosniff, DENY framing... and no warning left
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_plain_http_at_the_edge_drops_the_secure_cookies_and_says_so(tmp_path):
    # when: the compose example on http://localhost (ERP_TLS_EDGE=0)
    result = _deploy_check(tmp_path, ERP_TLS_EDGE="0")
    # then: Django's deployment check names what is no longer secured
    assert result.returncode == 1
    assert {"security.W004", "security.W012", "security.W016"} <= set(
        word.strip(":()") for word in result.stderr.split() if word.startswith(("(security.", "security."))
    ), result.stderr


def test_prepared_statements_can_be_turned_off_for_a_pooler_that_cannot_carry_them(env):
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    env.setenv("ERP_DB_PREPARED_STATEMENTS", "0")

    # then: Django's own defaults (bound by the client, nothing prepared)
    assert erp_env.database_config("contact")["OPTIONS"] == {"connect_timeout": 3}
