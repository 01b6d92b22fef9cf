"""The jobs every service with a database shares: retention, integrity checks and the dead-letter watchdog.

Thin: one call each.

Registered with ``shared_task`` under fixed names (``jobs.*``), which the schedules name;
each service's worker has them through its app's autodiscovery.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from . import conf, integrity, retention, watchdogs


@shared_task(name="jobs.idempotency_prune")
def idempotency_prune() -> int:
    deleted = retention.idempotency_records_prune(older_than=timedelta(hours=conf.get("IDEMPOTENCY_HOURS")))
    return retention.deleted_logged(deleted, what="idempotency records")


@shared_task(name="jobs.events_prune")
def events_prune() -> tuple[int, int]:
    outbox, inbox = retention.events_prune(older_than=timedelta(days=conf.get("RETENTION_DAYS")))
    retention.deleted_logged(outbox, what="sent outbox rows")
    retention.deleted_logged(inbox, what="inbox records")
    return outbox, inbox


@shared_task(name="jobs.sessions_prune")
def sessions_prune() -> int:
    return retention.deleted_logged(retention.sessions_prune(), what="expired sessions")


@shared_task(name="jobs.integrity_check")
def integrity_check(command: str) -> bool:
    return integrity.integrity_check_run(command=command).passed


@shared_task(name="jobs.dead_letters_watch")
def dead_letters_watch() -> int:
    return watchdogs.dead_letters_watch()
