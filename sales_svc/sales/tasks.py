"""sales_svc's jobs (thin: one call each): the watchdog of orders waiting for inventory too long."""

from __future__ import annotations

from celery import shared_task

from .watchdogs import stuck_pending_watch as _stuck_pending_watch


@shared_task(name="sales.stuck_pending_watch")
def stuck_pending_watch() -> int:
    return _stuck_pending_watch()
