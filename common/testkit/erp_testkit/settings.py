"""The environment of the test suites: what ``config/settings_test.py`` supplies before the settings load.

Every service's pytest.ini names its ``config.settings_test``, which calls
:func:`use_test_environment` and then imports ``config.settings``: plain ``pytest`` in a
service folder runs with nothing exported, against PostgreSQL and RabbitMQ on localhost.
What the environment already says wins (scripts/test.sh exports the same names), and the
overrides scripts/test.sh takes are honoured the same way: ``ERP_TEST_POSTGRES_URL``,
``ERP_TEST_DB_PREFIX`` and ``ERP_TEST_BROKER_URL``.

This only names defaults; no production path imports it, and production settings keep no
working default for a secret (common.settings.env); it is the test kit's, so it never ships in an image.
"""

from __future__ import annotations

import os

from common.settings.env import REPO_ROOT, env

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_DB_PREFIX = "erp_"


def environment_for_tests() -> dict[str, str]:
    """Return the variables scripts/test.sh exports, with its ``ERP_TEST_*`` overrides applied."""
    return {
        # The development fallbacks (secret, hosts, keys) without which settings refuse to load.
        "DJANGO_DEBUG": "1",
        "ERP_POSTGRES_URL": env("ERP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        "ERP_DB_PREFIX": env("ERP_TEST_DB_PREFIX", DEFAULT_DB_PREFIX),
        "BROKER_URL": env("ERP_TEST_BROKER_URL", DEFAULT_BROKER_URL),
        "ERP_DATA_DIR": str(REPO_ROOT / ".run" / "test"),
        "ERP_REPO_ROOT": str(REPO_ROOT),
    }


def use_test_environment() -> None:
    """Set each variable of :func:`environment_for_tests` the environment does not already set."""
    for name, value in environment_for_tests().items():
        if env(name) is None:
            os.environ[name] = value
