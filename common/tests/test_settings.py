"""common.settings read from a monkeypatched environment (Django's own settings are not reloaded)."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from common import settings as erp_settings

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


def _production(env, **values):
    env.setenv("DJANGO_DEBUG", "0")
    env.setenv("DJANGO_ALLOWED_HOSTS", "erp.example")
    for name, value in values.items():
        env.setenv(name, value)
    return erp_settings.service_settings(name="contact", title="Contact", apps=[], base_dir=Path("/srv"))


def test_production_without_a_secret_key_stops(env):
    with pytest.raises(ImproperlyConfigured) as raised:
        _production(env, JWT_PUBLIC_KEY=PUBLIC_PEM)

    assert str(raised.value) == (
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
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is missing, shorter than 32 characters"):
        _production(env, JWT_PUBLIC_KEY=PUBLIC_PEM, DJANGO_SECRET_KEY=secret)


def test_production_without_allowed_hosts_stops(env):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS is required"):
        _production(env, JWT_PUBLIC_KEY=PUBLIC_PEM, DJANGO_SECRET_KEY=REAL_SECRET, DJANGO_ALLOWED_HOSTS="")


def test_production_without_the_public_key_stops(env):
    with pytest.raises(ImproperlyConfigured) as raised:
        _production(env, DJANGO_SECRET_KEY=REAL_SECRET)

    assert str(raised.value) == "JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) is required when DJANGO_DEBUG is off."


def test_production_with_an_unreadable_key_file_stops(env, tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"^JWT_PUBLIC_KEY_FILE=.*missing\.pem cannot be read"):
        _production(env, DJANGO_SECRET_KEY=REAL_SECRET, JWT_PUBLIC_KEY_FILE=str(tmp_path / "missing.pem"))


def test_production_settings_verify_only(env, tmp_path):
    # given
    key_file = tmp_path / "public.pem"
    key_file.write_text(PUBLIC_PEM)

    # when
    settings = _production(env, DJANGO_SECRET_KEY=REAL_SECRET, JWT_PUBLIC_KEY_FILE=str(key_file))

    # then
    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == REAL_SECRET
    assert settings["SIMPLE_JWT"]["SIGNING_KEY"] is None
    assert settings["SIMPLE_JWT"]["VERIFYING_KEY"] == PUBLIC_PEM
    assert settings["ALLOWED_HOSTS"] == ["erp.example"]
    # and no key pair was generated on the side
    assert not (tmp_path / "keys").exists()


def test_inline_keys_may_carry_escaped_newlines(env):
    env.setenv("JWT_PUBLIC_KEY", PUBLIC_PEM.replace("\n", "\\n"))

    assert erp_settings.jwt_public_key(debug=False) == PUBLIC_PEM


def test_debug_makes_a_local_key_pair_and_secret(env, tmp_path):
    # when
    public = erp_settings.jwt_public_key(debug=True)
    secret = erp_settings.secret_key(debug=True)

    # then
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    assert (tmp_path / "keys" / "jwt_private.pem").stat().st_mode & 0o777 == 0o600
    assert secret.startswith("insecure-dev-")


def _generate_keys(data_dir: str) -> tuple[str, str]:
    import os

    os.environ["ERP_DATA_DIR"] = data_dir
    private_path, public_path = erp_settings.ensure_dev_keypair()
    return private_path.read_text(), public_path.read_text()


def test_processes_starting_at_once_share_one_matching_key_pair(env, tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from cryptography.hazmat.primitives import serialization

    # when four processes ask for the key pair of a fresh data dir at the same moment
    with ProcessPoolExecutor(4) as pool:
        pairs = set(pool.map(_generate_keys, [str(tmp_path)] * 4))

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


def test_data_dir_defaults_to_run_beside_the_service_folders(env, tmp_path):
    # given no ERP_DATA_DIR, and a service folder <repo>/contact_svc
    env.delenv("ERP_DATA_DIR")
    env.setenv("DJANGO_DEBUG", "1")
    (tmp_path / "contact_svc").mkdir()

    # when the service's settings are built
    erp_settings.service_settings(name="contact", title="Contact", apps=[], base_dir=tmp_path / "contact_svc")

    # then every process of the platform agrees on <repo>/.run
    assert erp_settings.data_dir() == tmp_path / ".run"
    assert (tmp_path / ".run" / "keys" / "jwt_public.pem").exists()


def test_private_key_is_required_in_production(env):
    with pytest.raises(ImproperlyConfigured, match="JWT_PRIVATE_KEY"):
        erp_settings.jwt_private_key(debug=False)


def test_database_url_prefers_database_url(env):
    env.setenv("DATABASE_URL", "postgres://app@db:5432/contacts")
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

    assert erp_settings.database_url("contact") == "postgres://app@db:5432/contacts"


def test_database_url_then_erp_postgres_url_with_prefix(env):
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/")
    env.setenv("ERP_DB_PREFIX", "erp_")

    assert erp_settings.database_url("contact") == "postgres://postgres@127.0.0.1:5432/erp_contact"


def test_database_url_erp_postgres_url_without_prefix_keeps_the_query(env):
    env.setenv("ERP_POSTGRES_URL", "postgres://postgres@db.example:5432/postgres?sslmode=require")

    assert erp_settings.database_url("contact") == "postgres://postgres@db.example:5432/contact?sslmode=require"


def test_database_url_falls_back_to_sqlite_under_the_data_dir(env, tmp_path):
    assert erp_settings.database_url("contact") == f"sqlite:///{tmp_path}/contact.sqlite3"


def test_sqlite_config_waits_for_locks(env):
    config = erp_settings.database_config("contact")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["CONN_MAX_AGE"] == 0


def test_broker_defaults_to_the_filesystem_transport(env, tmp_path):
    assert erp_settings.broker_url() == "filesystem://"
    assert erp_settings.broker_transport_options() == {
        "data_folder_in": f"{tmp_path}/broker/out",
        "data_folder_out": f"{tmp_path}/broker/out",
        "processed_folder": f"{tmp_path}/broker/processed",
        "store_processed": False,
        "control_folder": f"{tmp_path}/broker/control",
    }
    assert (tmp_path / "broker" / "control").is_dir()


def test_broker_url_from_the_environment(env):
    env.setenv("BROKER_URL", "amqp://guest:guest@rabbit:5672//")

    assert erp_settings.broker_url() == "amqp://guest:guest@rabbit:5672//"
    assert erp_settings.broker_transport_options() == {}


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("On", True), ("0", False), ("", False)])
def test_env_bool(env, value, expected):
    env.setenv("DJANGO_DEBUG", value)

    assert erp_settings.env_bool("DJANGO_DEBUG") is expected


def test_a_malformed_number_stops_with_its_name(env):
    env.setenv("ERP_HTTP_TIMEOUT", "soon")

    with pytest.raises(ImproperlyConfigured, match="ERP_HTTP_TIMEOUT must be a number, got 'soon'"):
        erp_settings.env_float("ERP_HTTP_TIMEOUT", 5.0)
