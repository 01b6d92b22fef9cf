"""The exchange, queues and bindings of the event bus, declared in this one place.

- ``erp.events``: durable topic exchange, routing key = event type.
- ``<service>.events``: durable queue of each consuming service, bound to exactly
  the types of ``registry.SUBSCRIPTIONS[service]``.
- ``<service>.events.retry.<ms>ms``: one delay queue per entry of ``RETRY_DELAYS``
  (``x-message-ttl``), dead-lettering through the default exchange straight back to
  ``<service>.events`` (never through ``erp.events``: that would fan a retry out to
  the other services too).
- ``<service>.events.dlq``: messages that no retry can fix, with the reason in headers.

Every queue is a **quorum queue** (RabbitMQ >= 3.10). Changing a queue's type later
means migrating every queue of every service, so it is decided here: quorum queues
are replicated (a cluster loses no queue with a node, where a classic queue lives on
one node), and since 3.10 they support what the retries use: a per-queue message
TTL (``x-message-ttl``; every message of a delay queue has the same TTL, so expiry
at the head of the queue is exact) and dead-lettering, here **at least once**
(``x-dead-letter-strategy``, which needs ``x-overflow: reject-publish``): a retry
that expires is moved back to its service queue and only then removed, so a broker
failure during the move cannot lose it (classic and at-most-once dead-lettering
can). Consumers use a per-consumer prefetch, which is what quorum queues support.

A queue that already exists under the same name with other arguments (a classic
queue declared before this choice) makes RabbitMQ refuse the declaration
(``PRECONDITION_FAILED``). :meth:`Topology.declare` then replaces it if it is empty
and unused (``queue.delete`` with ``if_empty``/``if_unused``, atomic on the broker,
so no message can be lost), and otherwise raises :class:`TopologyConflict` naming the
queue and what to do.

Every process that publishes or consumes calls :func:`declare` on each new
connection, for every service, so no event is dropped for lack of a binding even
before the consumers first start. Declarations are idempotent.

The filesystem transport keeps bindings in each process's memory (so declaring in
the publishing process is what makes routing work) and ignores TTL and
dead-lettering: there the consumer implements the delay itself (see
``consumer.EventConsumer``). All names carry ``ERP_EVENTS["PREFIX"]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue, binding

from . import conf
from .registry import SUBSCRIPTIONS

EXCHANGE = "erp.events"
QUORUM = {"x-queue-type": "quorum"}


class TopologyConflict(RuntimeError):
    """A queue of the topology exists with other arguments and still holds messages or consumers."""


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
            # One binding per routing key: two versions of a type share their name.
            bindings=[binding(self.exchange, routing_key=name) for name in subscribed_names(consumer)],
            durable=True,
            queue_arguments=dict(QUORUM),
        )

    def retry_queues(self, consumer: str) -> list[Queue]:
        return [
            Queue(
                self.retry_name(consumer, delay),
                durable=True,
                queue_arguments={
                    **QUORUM,
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name(consumer),
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            )
            for delay in self.retry_delays
        ]

    def dlq(self, consumer: str) -> Queue:
        return Queue(self.dlq_name(consumer), durable=True, queue_arguments=dict(QUORUM))

    def queues(self, consumer: str) -> list[Queue]:
        return [self.queue(consumer), *self.retry_queues(consumer), self.dlq(consumer)]

    def declare(self, connection: Connection, consumers: Iterable[str] | None = None) -> None:
        """Declare the exchange and every service's queues (idempotent; bounded by the socket timeouts).

        On a channel of its own: a refused declaration closes its channel, and the
        caller's default channel (its producer, its consumers) must not go with it.
        """
        channel = connection.channel()
        try:
            self.exchange.declare(channel=channel)
            for consumer in SUBSCRIPTIONS if consumers is None else consumers:
                for queue in self.queues(consumer):
                    try:
                        queue.declare(channel=channel)
                    except PreconditionFailed as exc:
                        channel = connection.channel()  # the refusal closed the other one
                        self._replace(channel, queue, exc)
        finally:
            with contextlib.suppress(Exception):
                channel.close()

    def _replace(self, channel, queue: Queue, refusal: Exception) -> None:
        """Replace a queue declared with other arguments if it is empty and unused, else raise."""
        try:
            channel.queue_delete(queue.name, if_unused=True, if_empty=True)
        except PreconditionFailed:
            raise TopologyConflict(
                f"queue {queue.name!r} exists with other arguments ({refusal}) and still holds messages or "
                "consumers: once it is drained and its consumers are stopped, delete it and start again "
                "(it is then declared as a quorum queue)"
            ) from None
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


def subscribed_names(consumer: str) -> list[str]:
    """The routing keys of ``consumer``'s subscriptions, each once, in their declared order."""
    return list(dict.fromkeys(event_type.name for event_type in SUBSCRIPTIONS[consumer]))


def is_amqp(connection: Connection) -> bool:
    return connection.transport.driver_type == "amqp"
