"""The admin tests both order services pass (common.orders.admin_suites): actions, refusals, history, filters."""

from common.orders.admin_suites import *  # noqa: F403
