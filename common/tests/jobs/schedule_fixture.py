"""A service's default schedules, for the beat tests (``JOBS["SCHEDULE"]``)."""

from datetime import timedelta

from common.jobs.schedule import integrity_schedule, retention_schedule

SCHEDULE = {
    **retention_schedule(events=True),
    **integrity_schedule("check_gadgets"),
    "every minute: a watchdog": {"task": "jobs.sessions_prune", "schedule": timedelta(minutes=1)},
}
