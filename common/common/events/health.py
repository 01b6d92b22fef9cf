"""The outbox backlog and the service's queue, for the readiness body, ``/metrics`` and ``outbox_status``.

A backlog is reported, never a reason to be unready (contract §1): while the broker
is away the outbox is exactly what lets writes go on. An alert watches the age of
the oldest pending event (``erp_outbox_oldest_pending_age_seconds``) instead.
"""

from __future__ import annotations

import contextlib

from django.utils import timezone

from .models import OutboxEvent, pending_outbox_transaction


def outbox_backlog() -> dict[str, float | int | None]:
    """Return ``{"pending": N, "oldest_pending_age_seconds": s or None}``, read in one transaction."""
    pending = OutboxEvent.objects.filter(sent_at__isnull=True)
    with pending_outbox_transaction():
        oldest = pending.order_by("id").values_list("occurred_at", flat=True).first()
        count = pending.count()
    age = None if oldest is None else round(max(0.0, (timezone.now() - oldest).total_seconds()), 3)
    return {"pending": count, "oldest_pending_age_seconds": age}


def queue_counts(connection) -> dict[str, dict[str, int]]:
    """Return ``{queue: {"messages": ready, "consumers": n}}`` of this service's queue and DLQ (amqp only).

    A passive declare each, on a channel of its own (a missing queue closes it and is left out):
    it reads the counts without touching a message, so nothing counts as a delivery.
    """
    from amqp.exceptions import NotFound

    from . import conf
    from .topology import Topology

    topology = Topology()
    consumer = conf.consumer_name()
    counts = {}
    for name in (topology.queue_name(consumer), topology.dlq_name(consumer)):
        channel = connection.channel()
        try:
            result = channel.queue_declare(name, passive=True)
        except NotFound:
            continue
        finally:
            with contextlib.suppress(Exception):
                channel.close()
        counts[name] = {"messages": result.message_count, "consumers": result.consumer_count}
    return counts


def oldest_waiting_age(waiting: int) -> float | None:
    """Seconds the oldest event waiting in this service's queue has waited since it occurred (None: unknown).

    0 with nothing waiting. Otherwise the larger of the age of the event the consumer took
    last (when it took it) and the time since it did: what is waiting came after it, so
    while the consumer keeps taking events this is their age, and while it takes none the
    figure grows with the wait (an upper bound), which is what an alert must see.
    """
    from . import conf
    from .models import ConsumerProgress

    if not waiting:
        return 0.0
    progress = ConsumerProgress.objects.filter(consumer=conf.consumer_name()).first()
    if progress is None:
        return None
    lag_when_taken = (progress.taken_at - progress.occurred_at).total_seconds()
    return max(0.0, lag_when_taken, (timezone.now() - progress.taken_at).total_seconds())
