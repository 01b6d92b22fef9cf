"""Orders confirmed but still waiting for inventory's answer past ``ERP["PENDING_STUCK_AFTER"]`` (docs/operations.md).

inventory answers in well under a second while its consumer runs; an order still ``pending``
minutes later waits on an event that is late or dead-lettered, and its customer waits with it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from .selectors import sales_order_list_stuck_pending

logger = logging.getLogger("sales.watchdogs")


def stuck_pending_watch() -> int:
    """Log a WARNING while orders are stuck ``pending``, naming the oldest; return how many there are."""
    stuck = sales_order_list_stuck_pending()
    count = stuck.count()
    if count:
        oldest = stuck.first()
        logger.warning(
            "%d sales order(s) waiting for inventory for more than %g s; the oldest, %s, since %s (%.0f s): "
            "the admin's filter 'waiting for inventory' lists them (docs/operations.md)",
            count,
            settings.ERP["PENDING_STUCK_AFTER"],
            oldest.pk,
            oldest.confirmed_at.isoformat(),
            (timezone.now() - oldest.confirmed_at).total_seconds(),
        )
    return count
