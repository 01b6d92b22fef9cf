"""purchase_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin."""

from common.jobs.schedule import integrity_schedule, retention_schedule, watchdog_schedule

SCHEDULE = {
    **retention_schedule(events=True),
    **watchdog_schedule(),
    **integrity_schedule("check_purchase_receipts"),
}
