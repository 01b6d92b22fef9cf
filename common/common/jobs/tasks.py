"""The jobs every service with a database shares: retention and integrity checks (thin: one call each).

Registered with ``shared_task`` under fixed names (``jobs.*``), which the schedules name;
each service's worker has them through its app's autodiscovery.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from . import conf, integrity, retention

logger = logging.getLogger(__name__)


@shared_task(name="jobs.idempotency_prune")
def idempotency_prune() -> int:
    deleted = retention.idempotency_records_prune(older_than=timedelta(hours=conf.get("IDEMPOTENCY_HOURS")))
    logger.info("retention: deleted %d idempotency records", deleted)
    return deleted


@shared_task(name="jobs.events_prune")
def events_prune() -> tuple[int, int]:
    outbox, inbox = retention.events_prune(older_than=timedelta(days=conf.get("RETENTION_DAYS")))
    logger.info("retention: deleted %d sent outbox rows, %d inbox records", outbox, inbox)
    return outbox, inbox


@shared_task(name="jobs.sessions_prune")
def sessions_prune() -> int:
    deleted = retention.sessions_prune()
    logger.info("retention: deleted %d expired sessions", deleted)
    return deleted


@shared_task(name="jobs.integrity_check")
def integrity_check(command: str) -> bool:
    return integrity.integrity_check_run(command=command).passed
