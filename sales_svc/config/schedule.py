"""sales_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin."""

from common.jobs.schedule import every_minute, integrity_schedule, retention_schedule, watchdog_schedule

SCHEDULE = {
    **retention_schedule(events=True),
    **watchdog_schedule(),
    "watchdog: orders stuck pending": {"task": "sales.stuck_pending_watch", "schedule": every_minute()},
    # Without --export: the lines against their own order's stock status, inside sales alone
    # (inventory's check_backorders reads this export: a cross-service check, run by hand).
    **integrity_schedule("check_backorders"),
}
