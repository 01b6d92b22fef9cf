"""The settings ``pytest`` runs purchase_svc's tests with (pytest.ini): ``config.settings`` in the test environment.

The test defaults scripts/test.sh exports are supplied first (common.settings.testing), so plain
``pytest`` in this folder needs nothing but PostgreSQL and RabbitMQ on localhost.
"""

from common.settings.testing import use_test_environment

use_test_environment()

from .settings import *  # noqa: E402, F403 (the service's settings, read in that environment)
