from django.core.management.base import BaseCommand, CommandError
from kombu import Producer

from common.events import broker, conf
from common.events.consumer import ATTEMPT, DB_RETRIES, NOT_BEFORE, REASON
from common.events.registry import SUBSCRIPTIONS
from common.events.topology import Topology


class Command(BaseCommand):
    help = "Move messages from <consumer>.events.dlq back to <consumer>.events for another try."

    def add_arguments(self, parser):
        parser.add_argument("--consumer", default=None, help="defaults to this service's consumer, as consume_events")
        parser.add_argument("--limit", type=int, default=None, help="at most this many messages")
        parser.add_argument("--dry-run", action="store_true", help="list reasons; each stays in the DLQ")

    def handle(self, *args, consumer=None, limit=None, dry_run=False, **options):
        # The consumer's own name (ERP_EVENTS["CONSUMER"], else SERVICE_NAME): the queue consume_events reads.
        consumer = consumer or conf.consumer_name()
        if consumer not in SUBSCRIPTIONS:
            raise CommandError(f"{consumer!r} consumes no events; name one with --consumer: {sorted(SUBSCRIPTIONS)}")
        moved = replay_dead_letters(consumer=consumer, limit=limit, dry_run=dry_run, out=self.stdout.write)
        self.stdout.write(f"{'would move' if dry_run else 'moved'} {moved} message(s)")


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
    of dead letters reads them with a dry run: common.events.dead_letters).

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
            producer.publish(
                message.body,
                exchange="",
                routing_key=target,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                message_id=message.properties.get("message_id"),
                headers=headers,
                retry=False,
                timeout=conf.get("PUBLISH_TIMEOUT"),
            )
            message.ack()
    return moved
