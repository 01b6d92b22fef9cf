"""purchase_svc's default beat schedules (docs/jobs.md): installed once, then edited in the admin.

Watchdogs (every minute) go here too when a service has some.
"""

from common.jobs.schedule import integrity_schedule, retention_schedule

SCHEDULE = {
    **retention_schedule(events=True),
    **integrity_schedule("check_purchase_receipts"),
}
