"""This service's dead letters: replayed (``manage.py replay_dead_letters``) and listed for the admin.

The admin's list is what the back office's home counts, one by one, read as
``replay_dead_letters --dry-run`` reads them, so looking uses up none of a letter's
deliveries: each letter is taken and put back at the queue's tail as a fresh copy (confirmed, then
the original acked). At most :data:`LISTED` are read per look; when the queue holds more, those
listed go behind the rest, as ``--dry-run --limit`` moves them (a letter is never lost: a copy not
confirmed leaves its original in the queue). Two looks at once each take letters the other holds
or put back: each page may then list a letter twice and miss another, while the queue still keeps
every letter once (the order shuffled); look again for the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Producer

from . import broker, conf
from .consumer import ATTEMPT, DB_RETRIES, NOT_BEFORE, REASON, ROUTING_KEY
from .registry import SUBSCRIPTIONS
from .topology import Topology, message_copy_publish

LISTED = 100


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str
    reason: str
    failed_at: str
    attempts: int | None
    replays: int


def consumes_events() -> bool:
    """True if this service consumes events (and so has a dead-letter queue)."""
    return conf.consumer_name() in SUBSCRIPTIONS


def dead_letters_list(*, limit: int = LISTED) -> list[DeadLetter]:
    """Return the first ``limit`` letters of this service's dead-letter queue, oldest first (see the module)."""
    letters: list[DeadLetter] = []

    def seen(message, headers: dict) -> None:
        letters.append(
            DeadLetter(
                message_id=str(message.properties.get("message_id") or ""),
                event_type=str(headers.get(ROUTING_KEY) or ""),
                reason=dead_letter_reason(headers),
                failed_at=str(headers.get("x-erp-failed-at") or ""),
                attempts=headers.get(ATTEMPT),
                replays=int(headers.get("x-erp-replayed") or 0),
            )
        )

    replay_dead_letters(consumer=conf.consumer_name(), limit=limit, dry_run=True, out=lambda line: None, seen=seen)
    return letters


# What RabbitMQ adds to a message it dead-letters (a delivery limit reached): a replay starts afresh.
BROKER_DEATH_HEADERS = ("x-death", "x-first-death-reason", "x-first-death-queue", "x-first-death-exchange",
                        "x-last-death-reason", "x-last-death-queue", "x-last-death-exchange")  # fmt: skip


def dead_letter_reason(headers) -> str:
    """The consumer's reason (``x-erp-reason``), or the broker's for a message it dead-lettered itself."""
    if headers.get(REASON):
        return headers[REASON]
    if headers.get("x-first-death-reason"):
        return f"dead-lettered by the broker: {headers['x-first-death-reason']} in {headers.get('x-first-death-queue')}"
    return "no reason given"


def replay_dead_letters(*, consumer: str, limit=None, dry_run=False, topology=None, out=print, seen=None) -> int:
    """Republish dead letters to the service queue (confirmed), then ack them; return the count.

    ``seen(message, headers)``, if given, is told of each letter as it is taken (the admin's list
    of dead letters reads them with a dry run: :func:`dead_letters_list`).

    A dry run puts each letter it lists back at the DLQ's tail as a fresh copy (confirmed, then
    the original acked) instead of leaving it unacked: a quorum queue counts a message returned
    by a closing channel as a delivery, and the DLQ has no delivery limit of its own, so on
    RabbitMQ 4.0-4.2 (default limit 20, no dead-letter exchange) the twentieth look would drop
    it. It stops at the depth it found, so one pass keeps the order (``--limit`` moves the
    listed ones behind the rest); a crash mid-copy leaves a duplicate letter, harmless to replay.
    """
    topology = topology or Topology()
    moved = 0
    with broker.connection() as conn, broker.connection() as publisher:
        topology.declare(conn, [consumer])
        topology.declare(publisher, [consumer])
        dlq = topology.dlq(consumer).bind(conn.default_channel)
        _, waiting, _ = dlq.queue_declare(passive=True)
        producer = Producer(publisher.default_channel)
        while moved < waiting and (limit is None or moved < limit):
            message = dlq.get(no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            out(f"{message.properties.get('message_id')}: {dead_letter_reason(headers)}")
            if seen is not None:
                seen(message, headers)
            moved += 1
            headers.pop("x-delivery-count", None)  # the broker's count of the original, not of the copy
            if dry_run:
                target = topology.dlq_name(consumer)
            else:
                target = topology.queue_name(consumer)
                # DB_RETRIES too: the consumer's own letters drop it, one the broker parked may carry it.
                for name in (REASON, NOT_BEFORE, DB_RETRIES, "x-erp-failed-at", *BROKER_DEATH_HEADERS):
                    headers.pop(name, None)
                headers[ATTEMPT] = 1
                headers["x-erp-replayed"] = int(headers.get("x-erp-replayed") or 0) + 1
            message_copy_publish(
                producer, message, routing_key=target, headers=headers, timeout=conf.get("PUBLISH_TIMEOUT")
            )
            message.ack()
    return moved
