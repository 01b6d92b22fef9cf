"""Default schedules every service with a database shares, for its ``config/schedule.py`` to list.

Celery ``beat_schedule`` entries (docs/jobs.md has the table): installed once by
``beat_schedule_install``, then the admin's to change.
"""

from __future__ import annotations

from celery.schedules import crontab

# Nightly, in the services' TIME_ZONE (UTC unless DJANGO_TIME_ZONE), spread over the small hours
# so the five services' jobs do not all hit one shared database server at once.
NIGHTLY_HOUR = 3


def nightly(minute: int) -> crontab:
    return crontab(hour=NIGHTLY_HOUR, minute=minute)


def retention_schedule(*, events: bool) -> dict[str, dict]:
    """The retention defaults of a service; ``events``: it has an outbox or an inbox (common.events)."""
    schedule = {
        "retention: idempotency keys": {"task": "jobs.idempotency_prune", "schedule": nightly(0)},
        "retention: expired sessions": {"task": "jobs.sessions_prune", "schedule": nightly(5)},
    }
    if events:
        schedule["retention: sent outbox and inbox"] = {"task": "jobs.events_prune", "schedule": nightly(10)}
    return schedule


def integrity_schedule(*commands: str) -> dict[str, dict]:
    """Nightly runs of the service's check commands, one schedule each."""
    return {
        f"integrity: {command}": {"task": "jobs.integrity_check", "schedule": nightly(30), "args": (command,)}
        for command in commands
    }


def every_minute() -> crontab:
    return crontab()


def watchdog_schedule() -> dict[str, dict]:
    """The watchdogs of a consuming service: its dead-letter queue, every minute."""
    return {"watchdog: dead letters": {"task": "jobs.dead_letters_watch", "schedule": every_minute()}}
