"""The pytest plugin of every service suite, loaded by its ``pytest11`` entry point (erp-testkit installed).

- Keys: before pytest-django imports the settings, the session gets an RSA key pair of its own
  in ``JWT_PUBLIC_KEY`` / ``JWT_PRIVATE_KEY`` (replacing whatever the environment named), so the
  settings verify (auth_svc: sign) with it and :func:`erp_testkit.tokens.issue_token` signs
  with it. Nothing is read from or written to the data dir; subprocesses inherit the pair.
- ``as_admin``, ``as_im``, ``as_fm``, ``as_service``: API clients with a token of that role (or a
  service token).
- ``staff_login``: ``staff_login("inventory_manager")`` is a Django test client signed in to the
  admin as a new staff member of that role (:func:`erp_testkit.admin.staff_user`).
- ``access_withdrawals`` (every test): the map of withdrawn access, synced and empty, never polled.
- Passwords (every test): hashed with MD5, not the production PBKDF2 of a million rounds (a
  quarter to a third of a second a hash: pytest-django's ``admin_user``, every test user); no test is
  about the hasher's strength.
- ``postgresql``: a fixture for tests that need PostgreSQL (row locks, real concurrency). It
  fails when the suite runs on anything else: such a test never skips.
"""

from __future__ import annotations

import math
import os

import pytest

from common.keys import generate_keypair

_KEY_VARIABLES = ("JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # tryfirst: pytest-django imports the settings in this same hook.
    for name in _KEY_VARIABLES:
        os.environ.pop(name, None)
    private_pem, public_pem = generate_keypair()
    os.environ["JWT_PRIVATE_KEY"] = private_pem
    os.environ["JWT_PUBLIC_KEY"] = public_pem


def session_private_key() -> str:
    """Return the private key of this test session (see the module docstring)."""
    try:
        return os.environ["JWT_PRIVATE_KEY"]
    except KeyError:
        raise RuntimeError("no test key pair: install erp-testkit (scripts/bootstrap.sh) and run pytest") from None


@pytest.fixture(scope="session")
def jwt_private_key() -> str:
    """The PEM that signs this session's tokens (the settings verify with its public half)."""
    return session_private_key()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hasher(django_test_environment):
    """The session's password hasher, MD5 (see the module docstring)."""
    from pytest_django.lazy_django import django_settings_is_configured

    if not django_settings_is_configured():
        yield
        return
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def access_withdrawals():
    """The process's map of withdrawn access (common.withdrawals), fetched once from a list and never polled.

    Every test starts with nothing withdrawn and no auth_svc to ask; one that withdraws appends
    ``Withdrawal`` rows to ``access_withdrawals.rows`` and calls ``access_withdrawals.sync()``.
    No verified token is kept from an earlier test either (common.verified_tokens).
    """
    from common import withdrawals
    from common.authentication import clear_verified_tokens

    clear_verified_tokens()

    rows: list = []
    # Every fetch answers the whole list (no cursor), and the map never goes stale: it is not polled.
    fake = withdrawals.AccessWithdrawals(
        lambda *, since: withdrawals.Window(list(rows), None),
        poll_seconds=3600,
        max_age_seconds=math.inf,
        backoff_max_seconds=3600,
    )
    fake.rows = rows
    fake.sync()
    withdrawals.install(fake)
    yield fake
    withdrawals.install(None)


@pytest.fixture
def postgresql():
    """Require PostgreSQL; fail loudly, never skip (scripts/test.sh sets ERP_POSTGRES_URL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail(f"this test needs PostgreSQL, the suite runs on {connection.vendor}: set ERP_POSTGRES_URL")
    return connection


# API clients per role (common.roles), with tokens signed by this session's key.


@pytest.fixture
def as_admin():
    from .tokens import auth_client

    return auth_client("admin")


@pytest.fixture
def as_im():
    from .tokens import auth_client

    return auth_client("inventory_manager")


@pytest.fixture
def as_fm():
    from .tokens import auth_client

    return auth_client("finance_manager")


@pytest.fixture
def staff_login(db):
    """Return ``login(role)``: a test client signed in to the admin as a new staff member of ``role``."""
    from django.test import Client

    from .admin import staff_user

    def login(role: str, **fields) -> Client:
        client = Client()
        client.force_login(staff_user(role, **fields))
        return client

    return login


@pytest.fixture
def as_service():
    """A client with the service token of ``sales`` (the internal reads accept it, nothing else does)."""
    from .tokens import auth_client

    return auth_client(token_type="service", user_id="sales")
