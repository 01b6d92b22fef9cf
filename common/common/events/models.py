"""Outbox (events to publish) and inbox (events already applied) tables."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.utils import timezone


@contextlib.contextmanager
def pending_outbox_transaction(using: str = DEFAULT_DB_ALIAS, *, synchronous_commit: bool = True) -> Iterator[None]:
    """A transaction whose reads of pending rows walk ``events_outbox_pending``, whatever the statistics say.

    Marking a row sent leaves its entry in that index until VACUUM. An index scan marks the
    entries of rows sent for good as dead as it passes them (btree's "kill_prior_tuple") and
    later scans skip them, where a bitmap scan reads every row sent since the last VACUUM
    again each time (1.7 ms for 2,453 such rows against 0.15, docs/performance.md), and a
    sequential scan the whole outbox. The planner picks either on statistics taken during a
    backlog, or on none yet (a new table): the relay's claim and the backlog's count and
    oldest row run in here (``common/tests/events/test_relay_plan.py``).

    ``synchronous_commit=False`` (the relay's): the commit does not wait for its WAL to reach
    the disk. All the relay commits is that rows were sent; lost in a crash of the database,
    they are sent again, which delivery at least once allows already (the consumers' inboxes
    drop the copies). Every other commit of an event (the publisher's, the consumer's before
    its ack) stays synchronous.
    """
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            settings = ["set_config('enable_bitmapscan', 'off', true)", "set_config('enable_seqscan', 'off', true)"]
            if not synchronous_commit:
                settings.append("set_config('synchronous_commit', 'off', true)")
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {', '.join(settings)}")
        yield


class OutboxEvent(models.Model):
    """An event written in the producer's transaction, published later by the relay.

    ``payload`` holds the exact envelope JSON that goes on the wire (a text column,
    not JSON: a database JSON type would turn Decimal amounts into floats).
    ``sent_at`` is null while the row is pending, then the time a relay took it to publish,
    committed once the broker confirmed it; rows are relayed roughly in ``id`` order, which
    promises consumers nothing (delivery is unordered: see the relay).
    """

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, editable=False)
    event_type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    producer = models.CharField(max_length=50)
    aggregate_id = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    occurred_at = models.DateTimeField()
    payload = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's only query: pending rows in id order (a small partial index).
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="events_outbox_pending"),
            # Retention's query: rows sent before a cutoff. Pending rows stay out of it, so that only the index
            # above can find them (pending_outbox_transaction).
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="events_outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} v{self.version} {self.event_id}"


class InboxEvent(models.Model):
    """A record that ``consumer`` applied ``event_id``, committed with the handler's writes."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField()
    consumer = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["event_id", "consumer"], name="events_inbox_once")]
        indexes = [models.Index(fields=["received_at"], name="events_inbox_received_at")]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_type} v{self.version} {self.event_id}"


class ConsumerProgress(models.Model):
    """When ``consumer`` last took an event off its queue, and when that event occurred.

    One row per consumer, written by the consumer at most once a second; ``/metrics``
    reads it for the age of the oldest event waiting (``events.health.queue_report``).
    """

    consumer = models.CharField(max_length=100, primary_key=True)
    taken_at = models.DateTimeField()
    occurred_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.consumer}: took an event of {self.occurred_at:%Y-%m-%d %H:%M:%S} at {self.taken_at:%H:%M:%S}"
