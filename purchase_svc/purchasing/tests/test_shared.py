"""The tests both order services pass (common.orders.suites): contact names, API docs."""

from common.orders.suites import *  # noqa: F403
