"""The exchange, queues and bindings of the event bus, declared in this one place.

- ``erp.events``: durable topic exchange, routing key = event type.
- ``<service>.events``: durable queue of each consuming service, bound to exactly
  the types of ``registry.SUBSCRIPTIONS[service]``.
- ``<service>.events.retry.<ms>ms``: one delay queue per entry of ``RETRY_DELAYS``
  (``x-message-ttl``), dead-lettering through the default exchange straight back to
  ``<service>.events`` (never through ``erp.events``: that would fan a retry out to
  the other services too).
- ``<service>.events.dlq``: messages that no retry can fix, with the reason in headers.

Every process that publishes or consumes calls :func:`declare` on each new
connection, for every service, so no event is dropped for lack of a binding even
before the consumers first start. Declarations are idempotent.

The filesystem transport keeps bindings in each process's memory (so declaring in
the publishing process is what makes routing work) and ignores TTL and
dead-lettering: there the consumer implements the delay itself (see
``consumer.EventConsumer``). All names carry ``ERP_EVENTS["PREFIX"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kombu import Connection, Exchange, Queue, binding

from . import conf
from .registry import SUBSCRIPTIONS

EXCHANGE = "erp.events"


class Topology:
    def __init__(self, *, prefix: str | None = None, retry_delays: Sequence[float] | None = None):
        self.prefix = conf.get("PREFIX") if prefix is None else prefix
        self.retry_delays = list(conf.get("RETRY_DELAYS") if retry_delays is None else retry_delays)
        self.exchange = Exchange(self.prefix + EXCHANGE, type="topic", durable=True)

    def queue_name(self, consumer: str) -> str:
        return f"{self.prefix}{consumer}.events"

    def dlq_name(self, consumer: str) -> str:
        return f"{self.queue_name(consumer)}.dlq"

    def retry_name(self, consumer: str, delay: float) -> str:
        return f"{self.queue_name(consumer)}.retry.{round(delay * 1000)}ms"

    def queue(self, consumer: str) -> Queue:
        if consumer not in SUBSCRIPTIONS:
            raise KeyError(f"unknown consumer {consumer!r}; known: {sorted(SUBSCRIPTIONS)}")
        return Queue(
            self.queue_name(consumer),
            bindings=[binding(self.exchange, routing_key=event_type.name) for event_type in SUBSCRIPTIONS[consumer]],
            durable=True,
        )

    def retry_queues(self, consumer: str) -> list[Queue]:
        return [
            Queue(
                self.retry_name(consumer, delay),
                durable=True,
                queue_arguments={
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name(consumer),
                },
            )
            for delay in self.retry_delays
        ]

    def dlq(self, consumer: str) -> Queue:
        return Queue(self.dlq_name(consumer), durable=True)

    def queues(self, consumer: str) -> list[Queue]:
        return [self.queue(consumer), *self.retry_queues(consumer), self.dlq(consumer)]

    def declare(self, connection: Connection, consumers: Iterable[str] | None = None) -> None:
        """Declare the exchange and every service's queues (idempotent)."""
        channel = connection.default_channel
        self.exchange.declare(channel=channel)
        for consumer in SUBSCRIPTIONS if consumers is None else consumers:
            for queue in self.queues(consumer):
                queue.declare(channel=channel)

    def delete(self, connection: Connection, consumers: Iterable[str] | None = None) -> None:
        """Delete what :meth:`declare` made (tests and benchmarks, on their private prefix)."""
        if not self.prefix:
            raise RuntimeError("refusing to delete the unprefixed production topology")
        channel = connection.default_channel
        for consumer in SUBSCRIPTIONS if consumers is None else consumers:
            for queue in self.queues(consumer):
                queue.bind(channel).delete()
        self.exchange.bind(channel).delete()


def is_amqp(connection: Connection) -> bool:
    return connection.transport.driver_type == "amqp"
