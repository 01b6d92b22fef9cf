"""common's test project passes the same checks as every service."""

from common.testing.service_suite import *  # noqa: F403
