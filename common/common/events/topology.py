"""The exchange, queues and bindings of the event bus, declared in this one place.

- ``erp.events``: durable topic exchange, routing key = event type.
- ``<service>.events``: durable queue of each consuming service, bound to exactly
  the types of ``registry.SUBSCRIPTIONS[service]``, with an explicit delivery limit
  (``x-delivery-limit``, ``ERP_EVENTS["DELIVERY_LIMIT"]``) and dead-lettering to
  ``<service>.events.dlq``: a message returned to the queue too often (one that kills
  its consumer) is moved to the DLQ by the broker. RabbitMQ 4 gives every quorum queue
  a limit of 20 and *drops* the message past it when no dead-letter exchange is set;
  3.x has no default. With both set, 3.10+ and 4.x behave alike.
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
queue declared before this choice, a service queue from before its delivery limit)
makes RabbitMQ refuse the declaration (``PRECONDITION_FAILED``); queue arguments
never change in place. A service queue of the old shape is migrated by its own
consumer (``declare(..., migrate=[consumer])``, :class:`QueueMigration`): its messages
move, confirmed, through ``<service>.events.upgrade`` into the queue declared anew.
Every other process (a relay, another service's consumer) goes on with it as it is,
with a warning, until then, and binds it no more once the holding queue exists (a
declare that checked just before it did can still bind it: a duplicate at worst).
Any other queue is replaced if it is empty and unused
(``queue.delete`` with ``if_empty``/``if_unused``, atomic on the broker for the
classic queues an older release declared), and otherwise :class:`TopologyConflict`
names the queue and what to do. This works over AMQP alone, on 3.10+ and 4.x: a
RabbitMQ policy would need the management API, and any policy of higher priority an
operator applies to the same queues would silently replace it.

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
import logging
import time
from collections.abc import Iterable, Sequence
from functools import cached_property

from amqp.exceptions import NotFound, PreconditionFailed, ResourceLocked
from kombu import Connection, Exchange, Producer, Queue, binding

from . import conf
from .registry import SUBSCRIPTIONS

logger = logging.getLogger("common.events.topology")

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

    @cached_property
    def delivery_limit(self) -> int:
        # Read when a service queue is declared, not before: delete() works without Django settings.
        return int(conf.get("DELIVERY_LIMIT"))

    def upgrade_name(self, consumer: str) -> str:
        return f"{self.queue_name(consumer)}.upgrade"

    def queue(self, consumer: str) -> Queue:
        return self._bound_queue(
            consumer,
            self.queue_name(consumer),
            {
                **QUORUM,
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dlq_name(consumer),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    def legacy_queue(self, consumer: str) -> Queue:
        """The service queue as releases before its delivery limit declared it."""
        return self._bound_queue(consumer, self.queue_name(consumer), dict(QUORUM))

    def upgrade_queue(self, consumer: str) -> Queue:
        """Where a migration holds the service queue's messages (and new events) meanwhile."""
        return self._bound_queue(consumer, self.upgrade_name(consumer), dict(QUORUM))

    def _bound_queue(self, consumer: str, name: str, arguments: dict) -> Queue:
        if consumer not in SUBSCRIPTIONS:
            raise KeyError(f"unknown consumer {consumer!r}; known: {sorted(SUBSCRIPTIONS)}")
        return Queue(
            name,
            # One binding per routing key: two versions of a type share their name.
            bindings=[binding(self.exchange, routing_key=key) for key in subscribed_names(consumer)],
            durable=True,
            queue_arguments=arguments,
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

    def declare(self, connection: Connection, consumers: Iterable[str] | None = None, *, migrate=()) -> None:
        """Declare the exchange and every service's queues (idempotent; bounded by the socket timeouts).

        On a channel of its own: a refused declaration closes its channel, and the
        caller's default channel (its producer, its consumers) must not go with it.
        ``migrate`` names the consumers whose service queue this caller may migrate
        (its own consumer): see the module docstring.
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
                        self._replace(connection, consumer, queue, exc, migrate=consumer in migrate)
                if consumer in migrate and is_amqp(connection):
                    QueueMigration(self, connection, consumer).finish()
        finally:
            with contextlib.suppress(Exception):
                channel.close()

    def _replace(self, connection: Connection, consumer: str, queue: Queue, refusal: Exception, *, migrate: bool):
        """Migrate or keep a service queue of an older shape; replace any other queue if it is empty and unused."""
        if queue.name == self.queue_name(consumer):
            if migrate:
                QueueMigration(self, connection, consumer).run()
                return
            try:
                with _channel(connection) as channel:
                    legacy = self.legacy_queue(consumer).bind(channel)
                    if self._migrating(connection, consumer):
                        # Its consumer unbound it: binding it again would copy every new event into it
                        # (the holding queue has them), moved back later as duplicates.
                        legacy.queue_declare()  # refused unless of the old shape
                    else:
                        legacy.declare()  # refused unless of the old shape
            except PreconditionFailed:
                pass
            else:
                logger.warning("queue %s has no delivery limit yet: its consumer migrates it", queue.name)
                return
        try:
            # Atomic on the broker for a classic queue (what an older release declared).
            with _channel(connection) as channel:
                channel.queue_delete(queue.name, if_unused=True, if_empty=True)
                queue.declare(channel=channel)
        except PreconditionFailed:
            raise TopologyConflict(
                f"queue {queue.name!r} exists with other arguments ({refusal}) and still holds messages or "
                "consumers: once it is drained and its consumers are stopped, delete it and start again "
                "(it is then declared as a quorum queue)"
            ) from None

    def _migrating(self, connection: Connection, consumer: str) -> bool:
        """True while ``consumer``'s holding queue exists: its service queue is being migrated."""
        try:
            with _channel(connection) as channel:
                channel.queue_declare(self.upgrade_name(consumer), passive=True)
        except NotFound:
            return False
        return True

    def delete(self, connection: Connection, consumers: Iterable[str] | None = None) -> None:
        """Delete what :meth:`declare` made (tests and benchmarks, on their private prefix)."""
        if not self.prefix:
            raise RuntimeError("refusing to delete the unprefixed production topology")
        channel = connection.default_channel
        for consumer in SUBSCRIPTIONS if consumers is None else consumers:
            retries = [self.retry_name(consumer, delay) for delay in self.retry_delays]
            for name in [self.queue_name(consumer), *retries, self.dlq_name(consumer), self.upgrade_name(consumer)]:
                channel.queue_delete(name)
        self.exchange.bind(channel).delete()


class QueueMigration:
    """Move a service queue of an older shape to the current one, losing no message.

    Queue arguments never change in place, and a quorum queue cannot be deleted "only if
    empty" (RabbitMQ refuses ``if-empty``/``if-unused`` for them), so the consumer that
    owns the queue does it, under a broker-side lock (an exclusive queue: one migration at
    a time among its replicas), never while a consumer of the previous release reads it:

    1. Declare ``<service>.events.upgrade`` with the queue's bindings, then unbind the old
       queue: new events land in the holding queue only.
    2. Wait until the service's delay queues are empty: an expiring retry is routed to the
       old queue by name (at least once: it waits in its delay queue while there is none).
    3. Move every message of the old queue to the holding queue, each copy confirmed by the
       broker before its original is acked (a crash leaves a message in one queue or, at
       worst, in both: a duplicate the inbox recognises), then delete the old queue and
       declare it anew.
    4. :meth:`finish`: unbind the holding queue, move its messages back, delete it. Every
       later declare by the consumer runs it too, so an interrupted migration ends.
    """

    def __init__(self, topology: Topology, connection: Connection, consumer: str):
        self.topology = topology
        self.connection = connection
        self.consumer = consumer
        self.name = topology.queue_name(consumer)
        self.holding = topology.upgrade_name(consumer)

    def run(self) -> None:
        with self._lock():
            with _channel(self.connection) as channel:
                readers = channel.queue_declare(self.name, passive=True).consumer_count
            if readers:
                logger.warning("queue %s: %s older consumer(s) read it; migrated once they stop", self.name, readers)
                return
            try:
                with _channel(self.connection) as channel:
                    self.topology.queue(self.consumer).declare(channel=channel)
                return  # another replica migrated it while this one waited for the lock
            except PreconditionFailed:
                pass
            with _channel(self.connection) as channel:
                self.topology.upgrade_queue(self.consumer).declare(channel=channel)
                for key in subscribed_names(self.consumer):
                    channel.queue_unbind(self.name, self.topology.exchange.name, key)
            self._wait_for_delay_queues(max(self.topology.retry_delays, default=0.0) + 5.0)
            moved = self._move(self.name, self.holding)
            with _channel(self.connection) as channel:
                lost = channel.queue_delete(self.name)
                self.topology.queue(self.consumer).declare(channel=channel)
            if lost:  # unbound, and bound again by no declare (Topology._migrating): only a direct publish could
                logger.error("queue %s: %s message(s) arrived while it was being migrated", self.name, lost)
            logger.warning("queue %s migrated to its delivery limit and dead-lettering (%s moved)", self.name, moved)
            self._finish()

    def finish(self) -> None:
        """Move what the holding queue has back to the service queue, then delete it (nothing if absent).

        Under the lock, as a migration: two consumers starting at once would otherwise both move
        from the holding queue, and the one that deletes it first pulls it from under the other.
        (Only once there is one: a consumer's every start asks, and most find none.)
        """
        if self._holding_exists():
            with self._lock():
                self._finish()

    def _holding_exists(self) -> bool:
        try:
            with _channel(self.connection) as channel:
                channel.queue_declare(self.holding, passive=True)
        except NotFound:
            return False
        return True

    def _finish(self) -> None:
        if not self._holding_exists():  # another consumer finished while this one waited for the lock
            return
        with _channel(self.connection) as channel:
            for key in subscribed_names(self.consumer):
                channel.queue_unbind(self.holding, self.topology.exchange.name, key)
        self._move(self.holding, self.name)
        with _channel(self.connection) as channel:
            channel.queue_delete(self.holding)

    @contextlib.contextmanager
    def _lock(self):
        """Hold ``<queue>.migrating``, an exclusive queue: a second holder is refused (RESOURCE_LOCKED)."""
        lock = f"{self.name}.migrating"
        channel = self.connection.channel()
        try:
            try:
                channel.queue_declare(lock, exclusive=True, auto_delete=True)
            except ResourceLocked:
                raise TopologyConflict(f"queue {self.name!r} is being migrated by another consumer") from None
            yield
            channel.queue_delete(lock)
        finally:
            with contextlib.suppress(Exception):
                channel.close()

    def _wait_for_delay_queues(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for queue in self.topology.retry_queues(self.consumer):
            while True:
                try:
                    with _channel(self.connection) as channel:
                        waiting = channel.queue_declare(queue.name, passive=True).message_count
                except NotFound:
                    waiting = 0
                if not waiting:
                    break
                if time.monotonic() > deadline:
                    raise TopologyConflict(
                        f"queue {queue.name!r} still holds retries: migration of {self.name!r} retried"
                    )
                time.sleep(0.5)

    def _move(self, source: str, target: str) -> int:
        options = {**self.connection.transport_options, "confirm_publish": True}
        moved = 0
        with self.connection.clone(transport_options=options) as publisher, _channel(self.connection) as channel:
            producer = Producer(publisher.default_channel)
            while (message := Queue(source).bind(channel).get(no_ack=False)) is not None:
                headers = {k: v for k, v in (message.headers or {}).items() if k != "x-delivery-count"}
                message_copy_publish(producer, message, routing_key=target, headers=headers, mandatory=True)
                message.ack()
                moved += 1
        return moved


def message_copy_publish(producer: Producer, message, *, routing_key: str, headers: dict, **options) -> None:
    """Publish a persistent copy of ``message`` (its body and properties) to the queue ``routing_key``.

    What moving a message from one queue to another publishes (a migration's move here, a dead
    letter's replay or look: common.events.dead_letters); ``headers`` are the copy's own.
    """
    properties = message.properties or {}
    producer.publish(
        message.body,
        exchange="",
        routing_key=routing_key,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=2,
        message_id=properties.get("message_id"),
        correlation_id=properties.get("correlation_id"),
        timestamp=properties.get("timestamp"),
        headers=headers,
        retry=False,
        **options,
    )


@contextlib.contextmanager
def _channel(connection: Connection):
    """A channel of its own for one step: a refusal closes only it."""
    channel = connection.channel()
    try:
        yield channel
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def subscribed_names(consumer: str) -> list[str]:
    """The routing keys of ``consumer``'s subscriptions, each once, in their declared order."""
    return list(dict.fromkeys(event_type.name for event_type in SUBSCRIPTIONS[consumer]))


def is_amqp(connection: Connection) -> bool:
    return connection.transport.driver_type == "amqp"
