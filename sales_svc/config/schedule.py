"""sales_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin."""

from common.jobs.schedule import every_minute, retention_schedule, watchdog_schedule

SCHEDULE = {
    **retention_schedule(events=True),
    **watchdog_schedule(),
    "watchdog: orders stuck pending": {"task": "sales.stuck_pending_watch", "schedule": every_minute()},
}
