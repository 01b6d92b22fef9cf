"""The settings ``pytest`` runs inventory_svc's tests with (pytest.ini): ``config.settings`` in the test environment.

The test defaults scripts/test.sh exports are supplied first (erp_testkit.settings), so plain
``pytest`` in this folder needs nothing but PostgreSQL and RabbitMQ on localhost.
"""

from erp_testkit.settings import use_test_environment

use_test_environment()

from .settings import *  # noqa: E402, F403 (the service's settings, read in that environment)

# A job sent by the code under test runs in the test's process and transaction (a test of the
# worker itself starts one, with the service's plain settings).
CELERY_TASK_ALWAYS_EAGER = True
