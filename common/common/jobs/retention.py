"""Retention: delete the rows every service accumulates once nothing can need them any more.

Each function deletes in batches of ``BATCH`` rows, one short transaction each, so a
nightly run over a large backlog never holds a long lock on a table the requests write,
and returns how many rows went. The nightly tasks (:mod:`.tasks`) call them with the
``JOBS`` settings; ``prune_events`` and ``prune_idempotency`` are the same functions by hand.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

BATCH = 5000


def deleted_logged(count: int, *, what: str) -> int:
    """Log what a retention job deleted (one INFO line, the same shape for every table); return ``count``."""
    logger.info("retention: deleted %d %s", count, what)
    return count


def rows_delete_in_batches(queryset: QuerySet, *, batch: int = BATCH) -> int:
    """Delete every row of ``queryset`` (and what cascades from them), ``batch`` rows at a time; return how many.

    Each delete asks ``queryset``'s condition again: a row changed since its batch was read
    (a session extended by its user meanwhile) no longer matches, and stays.
    """
    deleted = 0
    while True:
        pks = pks_batch(queryset, batch=batch)
        if not pks:
            return deleted
        _, per_model = queryset.filter(pk__in=pks).delete()
        deleted += per_model.get(queryset.model._meta.label, 0)


def pks_batch(queryset: QuerySet, *, batch: int) -> list:
    """Return the primary keys of the first ``batch`` rows of ``queryset``."""
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])


def idempotency_records_prune(*, older_than: timedelta) -> int:
    """Delete stored Idempotency-Key answers made more than ``older_than`` ago."""
    from common.idempotency.models import IdempotencyRecord

    return rows_delete_in_batches(IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than))


def events_prunable(*, older_than: timedelta) -> tuple[QuerySet, QuerySet]:
    """Return the outbox rows sent and the inbox records received more than ``older_than`` ago.

    A pending outbox row is never among them, however old: it is an event not yet published.
    """
    from common.events.models import InboxEvent, OutboxEvent

    cutoff = timezone.now() - older_than
    return (
        OutboxEvent.objects.filter(sent_at__isnull=False, sent_at__lt=cutoff),
        InboxEvent.objects.filter(received_at__lt=cutoff),
    )


def events_prune(*, older_than: timedelta) -> tuple[int, int]:
    """Delete the rows :func:`events_prunable` returns; return how many outbox rows and inbox records went."""
    outbox, inbox = events_prunable(older_than=older_than)
    return rows_delete_in_batches(outbox), rows_delete_in_batches(inbox)


def sessions_prune() -> int:
    """Delete the admin's expired sessions (Django's ``clearsessions``, counted)."""
    from django.contrib.sessions.models import Session

    return rows_delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))
