"""Consume a service's queue and apply each event exactly once: ``manage.py consume_events``.

What a handler may rely on: each event is *delivered* at least once and *applied*
once (the inbox), but **not in order**: a retry waits in a delay queue while later
events of the same aggregate go ahead, and competing consumers interleave. A handler
that keeps a copy of another service's record compares ``event.aggregate_version``
with what it holds (``common.events.apply_if_newer``) instead of trusting arrival.

Built on kombu's ``ConsumerMixin`` rather than a Celery worker: the events are
plain JSON messages published by other services (no Celery task protocol), and
the mixin brings what we need and nothing else: reconnection with backoff when
the broker goes away, a drain loop that checks ``should_stop`` between messages
(SIGTERM finishes the current message, never half of it), and manual acks.
Retry and dead-letter copies go through a second connection with publisher
confirms, so a copy is safely stored before the original is acked, and waiting
for a confirm never re-enters the consuming channel.

Per message:

1. The control headers (``x-erp-attempt``, ``x-erp-db-retries``,
   ``x-erp-not-before``) are parsed defensively; malformed ones make the message
   poison. Then :func:`envelope.parse`; a bad message (or a type without a
   handler) goes to ``<service>.events.dlq`` with the reason in the
   ``x-erp-reason`` header, and the consumer goes on with the next one.
2. In one transaction: ``INSERT`` an :class:`InboxEvent` (``ON CONFLICT DO
   NOTHING``; a conflict means a duplicate, acked without effect) and call the
   handler. On PostgreSQL a concurrent consumer of the same event waits on the
   unique index and then sees the conflict. A handler that swallowed a database
   error (its transaction is aborted, so the commit would silently roll back the
   inbox row too) counts as a failed handler, never as applied.
3. Ack after the commit. A crash between commit and ack redelivers the message,
   which step 2 recognises as a duplicate.
4. A handler exception is retried through ``<service>.events.retry.<ms>ms`` with
   the delays of ``RETRY_DELAYS`` (header ``x-erp-attempt``), then dead-lettered;
   a handler's ``PoisonMessage`` (what the types cannot say, and no retry changes)
   is dead-lettered at once.
   A database error that no retry fixes (a program limit, a missing column) is such a
   handler failure too. One that says the database is away or busy
   (``exceptions.database_away``: a lost connection, a deadlock, a failover's read-only
   transaction) says little about the message, so it never uses up attempts. It is first
   retried in place, after each of the short pauses of ``DB_RETRY_PAUSES``
   (0.1 s, 0.5 s, 2 s; the message stays unacked), so a blip of the database
   (a failover, a killed connection) delays the event by a fraction of a second.
   One that outlasts them is retried at the longest delay, counted apart (header
   ``x-erp-db-retries``); after ``MAX_DB_RETRIES`` of those (720: six hours at
   30 s) the message is dead-lettered with the reason, so a persistent one (a
   database left read-only) cannot loop forever. The dead-letter copy drops
   ``x-erp-db-retries`` so that ``replay_dead_letters`` starts it afresh.

Batches (opt-in: ``BATCH_SIZE`` > 1, default 1). A handler that locks a row holds it
until its commit (inventory: the stock row of each item sold), so the events of one
popular record are applied one commit after the other, however many consumers compete:
a lock wait, a commit and its round trips per event is the limit (bench/hot_item.py).
With a batch, the consumer applies up to ``BATCH_SIZE`` messages the broker has already
delivered (the prefetch; a first message waits ``BATCH_LONE_WAIT`` for a second, by default
only taking what has arrived, a batch of two or more ``BATCH_WAIT`` for the next) in ONE
transaction and commits once:

- ``BATCH_LOCK`` (a callable given the batch's events) first takes the locks the handlers
  will take, in the service's global lock order and in one statement, so that two
  consumers' batches queue for each other instead of deadlocking (rows locked one event
  after another would be taken out of that order across the batch);
- each message then goes through step 2 in a savepoint of its own, its inbox row
  included: a duplicate is recognised alone, and a failing handler (a retry, a poison
  message) is rolled back alone and takes the usual retry or dead-letter path after the
  commit, while the others stay applied;
- every message is acked (or its retry or dead-letter copy stored, then acked) only after
  the commit. A crash between the two redelivers the messages not acked yet, which the
  inbox recognises message by message.
- Anything that escapes a savepoint (the database away or busy, a deadlock, a lock
  taken by ``BATCH_LOCK`` failing, the commit failing) rolls the whole batch back, and
  its messages are then applied one by one through the path above, with its in-place
  retries: a batch is never retried as a batch, and never partly committed.

A stop (SIGTERM) waits for a batch being applied, like for a message. One that interrupts
the wait for a batch's next message leaves the gathered ones unapplied and unacked (the
broker gives them to another consumer); one seen between two waits applies them first.

Batching changes no semantics: handlers run in delivery order, as they would one
transaction after the other, and write their outbox rows in that order; a handler must
not assume it is alone in its transaction (none commits or opens a connection of its own).

Failures around the ack (step 3/4), and why nothing is lost or spun on:

- A retry or dead-letter copy is published ``mandatory`` with publisher confirms,
  and the original is acked only after the broker confirmed the copy. An
  unroutable copy (a retry queue or DLQ that does not exist) is returned by the
  broker and raises instead of being dropped silently.
- If a copy cannot be stored (publisher connection down, confirm timeout, nack,
  unroutable), the original is *not* acked: :class:`CopyNotStored` ends the
  consuming connection, so the broker redelivers the message (and the others
  prefetched, none of which was acked). That is safe because no copy path
  follows a commit: the handler's transaction was rolled back (retry,
  dead-letter) or there was none (poison, not-before). If the copy was in fact
  stored but its confirm was lost, the redelivery makes a second copy; a second
  retry copy is a duplicate the inbox recognises, a second dead letter is a
  duplicate entry in the DLQ, harmless to replay.
- :meth:`EventConsumer.run` restarts after such a failure with a growing pause
  (1 s doubling to 30 s, reset by the next message disposed of normally), so a
  lasting broker problem neither loses the message nor re-runs its handler in a
  tight loop. The topology is declared again on each reconnect, which repairs a
  deleted retry queue or DLQ.
- If the ack itself fails after the copy was stored, the original is redelivered
  and handled as above (a duplicate copy at worst).

On the filesystem transport (no TTL, no dead-lettering) a retry is republished to
the service queue with ``x-erp-not-before``; the consumer puts a message back
until that time has come, sleeping briefly so it does not spin (as on amqp
when ``RETRY_DELAYS`` is empty and there is no delay queue). A not-before that is
not a finite number, or lies further ahead than any retry could have set
(longest delay plus ``NOT_BEFORE_SLACK``), is malformed: such a message would
otherwise be put back forever.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu import Connection, Consumer, Producer
from kombu.mixins import ConsumerMixin

from ..exceptions import database_away
from ..request_id import reset_request_id, set_request_id
from . import broker, conf, envelope, liveness
from .envelope import Event, PoisonMessage
from .models import ConsumerProgress, InboxEvent
from .registry import SUBSCRIPTIONS, EventType
from .shutdown import Interrupted
from .topology import Topology, is_amqp

logger = logging.getLogger("common.events.consumer")

Handler = Callable[[Event], Any]
BatchLock = Callable[[Sequence[Event]], Any]

ATTEMPT = "x-erp-attempt"
REASON = "x-erp-reason"
NOT_BEFORE = "x-erp-not-before"
ROUTING_KEY = "x-erp-routing-key"
DB_RETRIES = "x-erp-db-retries"

NOT_BEFORE_SLACK = 300.0  # seconds a not-before may lie beyond the longest retry delay
RESTART_PAUSE_MAX = 30.0
PROGRESS_INTERVAL = 1.0  # seconds between two records of the consumer's progress


def load_handlers(consumer: str, handlers: Mapping[EventType, Handler] | str | None = None) -> dict[EventType, Handler]:
    """Return the consumer's handler map, checked against the topology's subscriptions."""
    handlers = handlers if handlers is not None else conf.get("HANDLERS")
    if isinstance(handlers, str):
        handlers = import_string(handlers)
    if not handlers:
        raise ImproperlyConfigured('ERP_EVENTS["HANDLERS"] must name a dict of EventType -> callable')
    if consumer not in SUBSCRIPTIONS:
        raise ImproperlyConfigured(f"unknown consumer {consumer!r}; known: {sorted(SUBSCRIPTIONS)}")
    unbound = [str(event_type) for event_type in handlers if event_type not in SUBSCRIPTIONS[consumer]]
    if unbound:
        raise ImproperlyConfigured(f"{consumer} handles {unbound}, not bound in registry.SUBSCRIPTIONS")
    return dict(handlers)


@dataclass(frozen=True)
class Taken:
    """A message parsed and ready for its handler, with its control headers."""

    message: Any
    event: Event
    handler: Handler
    attempt: int
    db_retries: int


class _Stopping(Exception):
    """Raised from the reconnect wait once a stop was asked for."""


class CopyNotStored(Exception):
    """A retry/dead-letter copy was not confirmed: the original stays unacked for redelivery."""


def _describe(exc: BaseException) -> str:
    try:
        return repr(exc)
    except Exception:  # a broken __repr__ must not keep the message from its retry
        return f"<{type(exc).__name__}>"


def _int_header(headers: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    """Return an integer control header, or raise PoisonMessage if it is malformed."""
    value = headers.get(name)
    if value is None:
        return default
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PoisonMessage(f"malformed {name} header: {value!r}")
    return value


def _float_header(headers: Mapping[str, Any], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise PoisonMessage(f"malformed {name} header: {value!r}") from None
    if not math.isfinite(number):
        raise PoisonMessage(f"malformed {name} header: {value!r}")
    return number


def _transaction_aborted(connection) -> bool:
    """True if the open transaction can only roll back (a swallowed database error)."""
    if connection.needs_rollback:
        return True
    info = getattr(connection.connection, "info", None)  # psycopg 3
    status = getattr(info, "transaction_status", None)
    if status is None:
        return False
    from psycopg.pq import TransactionStatus

    return status == TransactionStatus.INERROR


def apply_event(event: Event, handler: Handler, *, consumer: str, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Run ``handler`` with ``consumer``'s inbox record of ``event`` in one transaction.

    Returns False, without running the handler, if the inbox already holds the event
    (a duplicate). The one path every delivery takes, the consumer's and the handler
    tests' (``erp_testkit.events.deliver``).
    """
    connection = connections[using]
    field = InboxEvent._meta.get_field("event_id")
    table = connection.ops.quote_name(InboxEvent._meta.db_table)
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (event_id, consumer, event_type, version, correlation_id, received_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, consumer) DO NOTHING RETURNING id",
                [
                    field.get_db_prep_value(event.event_id, connection),
                    consumer,
                    event.event_type.name,
                    event.event_type.version,
                    event.correlation_id or "",
                    InboxEvent._meta.get_field("received_at").get_db_prep_value(timezone.now(), connection),
                ],
            )
            if cursor.fetchone() is None:
                return False
        token = set_request_id(event.correlation_id)
        try:
            handler(event)
        finally:
            reset_request_id(token)
        if _transaction_aborted(connection):
            # Committing now would silently roll back, inbox row included: the
            # event would be acked without effect. Fail so it is retried instead.
            raise RuntimeError("the handler swallowed a database error; its transaction was aborted")
    return True


class EventConsumer(ConsumerMixin):
    def __init__(
        self,
        *,
        consumer: str | None = None,
        handlers: Mapping[EventType, Handler] | str | None = None,
        broker_url: str | None = None,
        topology: Topology | None = None,
        prefetch: int | None = None,
        using: str = DEFAULT_DB_ALIAS,
        before_ack: Callable[[Event], None] | None = None,
    ):
        settings = conf.events_settings()
        self.consumer_name = consumer or conf.consumer_name()
        self.handlers = load_handlers(self.consumer_name, handlers)
        self.topology = topology or Topology()
        self.retry_delays = self.topology.retry_delays
        self.max_attempts = len(self.retry_delays) + 1
        self.db_retry_delay = max(self.retry_delays, default=0.0)
        self.max_db_retries = int(settings["MAX_DB_RETRIES"])
        self.db_retry_pauses = [float(pause) for pause in settings["DB_RETRY_PAUSES"]]
        self.batch_size = max(1, int(settings["BATCH_SIZE"]))
        self.batch_wait = float(settings["BATCH_WAIT"])
        # Never longer than BATCH_WAIT: a service that shortens that one means its batches' first waits too.
        self.batch_lone_wait = min(float(settings["BATCH_LONE_WAIT"]), self.batch_wait)
        if self.batch_lone_wait < 0:
            raise ImproperlyConfigured("ERP_EVENTS BATCH_WAIT and BATCH_LONE_WAIT are seconds, 0 or more.")
        self.batch_lock: BatchLock | None = (
            import_string(settings["BATCH_LOCK"]) if isinstance(settings["BATCH_LOCK"], str) else settings["BATCH_LOCK"]
        )
        # A batch is made of messages already delivered: the broker must be allowed to send that many.
        self.prefetch = max(prefetch or settings["PREFETCH"], self.batch_size)
        self.using = using
        self._batch: list[Taken] = []
        self.before_ack = before_ack  # test hook: runs after the commit, before the ack
        self.connection = broker.connection(url=broker_url, heartbeat=settings["HEARTBEAT"], confirm=False)
        if not is_amqp(self.connection):
            # kombu's filesystem transport (the embedded default) can hand its reader a message file that the
            # writer has made but not yet filled: the payload is then unreadable and gone. One by one, the
            # consumer polls about once a second; a batch polls every BATCH_WAIT, which makes that race common.
            self.batch_size = 1
        self.broker_url = broker_url
        self._publisher: Connection | None = None
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.retried = 0
        self.db_retried_in_place = 0
        self.batches = 0  # batches of more than one message committed together
        self.batches_split = 0  # batches rolled back whole and applied one by one
        self._progress_noted_at = -math.inf
        self._restart_pause = 1.0
        self.alive = liveness.Heartbeat("consumer")
        self._connecting = False
        self._draining = False
        self._handling = False

    @property
    def interruptible(self) -> bool:
        """True while waiting on the broker outside any message (connecting, an idle drain)."""
        return (self._connecting or self._draining) and not self._handling

    # -- kombu hooks -----------------------------------------------------

    def get_consumers(self, Consumer, channel):
        return [Consumer(queues=[self.topology.queue(self.consumer_name)], on_message=self.on_message,
                         prefetch_count=self.prefetch, no_ack=False)]  # fmt: skip

    @contextlib.contextmanager
    def Consumer(self):
        """Connect, declare, consume; leave without ever waiting on a broker that stopped answering.

        kombu's version cancels each consumer and closes the connection with a
        handshake, which on a half-open link waits for replies that never come. Here an
        error drops the socket (the broker returns the unacked messages when it notices);
        a clean stop closes with every wait capped (:func:`broker.close`). Its reconnect
        loop also looks at ``should_stop`` every second, so a SIGTERM during a broker
        outage ends the process promptly.
        """
        conn = self.create_connection()
        broken = True
        try:
            self._connecting = True
            try:
                conn.ensure_connection(
                    self.on_connection_error, self.connect_max_retries, callback=self._reconnect_tick
                )
                self.topology.declare(conn, migrate=[self.consumer_name])
            finally:
                self._connecting = False
            self._close_publisher()
            logger.info("event consumer connected", extra={"queue": self.topology.queue_name(self.consumer_name)})
            channel = conn.default_channel
            consumers = self.get_consumers(partial(Consumer, channel, on_decode_error=self.on_decode_error), channel)
            for consumer in consumers:
                consumer.consume()
            yield conn, channel, consumers
            self.on_consume_end(conn, channel)
            broken = False
        finally:
            self._draining = False
            broker.close(conn, broken=broken)

    def consume(self, limit=None, timeout=None, safety_interval=1, **kwargs):
        """kombu's drain loop; with batches, a short drain after a message gathers the ones already delivered.

        Once the wait of :meth:`_next_wait` passes without a message (or the batch is full,
        in :meth:`on_message`), the batch is applied. A batch is never carried over a
        reconnection: its messages belong to the channel that delivered them, which
        returns them to the queue when it goes.
        """
        if self.batch_size == 1:
            yield from super().consume(limit=limit, timeout=timeout, safety_interval=safety_interval, **kwargs)
            return
        try:
            with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
                while not self.should_stop:
                    self.on_iteration()
                    wait = self._next_wait(conn, safety_interval)
                    if wait is None:  # the batch waits for nothing and nothing more has arrived: apply it now
                        self._handle(self._flush_batch)
                        continue
                    try:
                        conn.drain_events(timeout=wait)
                    except TimeoutError:  # socket.timeout
                        if self._batch:
                            self._handle(self._flush_batch)
                        else:
                            conn.heartbeat_check()
                    except OSError:
                        if not self.should_stop:
                            raise
                    else:
                        yield
                self._handle(self._flush_batch)  # asked to stop: finish what was taken
        finally:
            self._batch.clear()

    def _next_wait(self, conn, idle: float) -> float | None:
        """How long the drain waits for the next message: ``idle`` with nothing gathered, else for the batch;
        None to apply the batch at once.

        A lone message waits ``BATCH_LONE_WAIT`` for a second (0 by default: only what has
        arrived already joins it), so the event of an idle queue goes to its handler at once
        instead of waiting ``BATCH_WAIT`` out. Once a second one has come, messages are
        arriving together (a backlog, a burst) and the batch waits ``BATCH_WAIT`` for each next.
        Without a wait, whether anything has arrived is asked of the link itself: a drain
        with a zero timeout on amqp spins on a frame only partly arrived (``broker.has_arrived``);
        kombu's other transports poll once for it.
        """
        if not self._batch:
            return idle
        wait = self.batch_wait if len(self._batch) > 1 else self.batch_lone_wait
        if wait or not is_amqp(conn):
            return wait
        return broker.ARRIVED_WAIT if broker.has_arrived(conn) else None

    def on_iteration(self) -> None:
        self.alive.beat()
        self._draining = True  # until the drain hands over a message (on_message)

    def _reconnect_tick(self) -> None:
        self.alive.beat()  # retrying is alive; a wedged process is what the probe is for
        if self.should_stop:
            raise _Stopping

    def on_connection_error(self, exc, interval):
        logger.warning("event consumer: broker unavailable, retrying in %ss: %r", interval, exc)

    def on_consume_end(self, connection, channel) -> None:
        self._close_publisher()

    def stop(self) -> None:
        """Finish the current message, then return from :meth:`run` (signal-safe)."""
        self.should_stop = True

    def run(self, _tokens=1, **kwargs) -> None:
        """Consume until stopped, reconnecting after any broker failure (not only the listed ones).

        Leaving the consuming connection returns its unacked messages to the queue.
        The pause before reconnecting grows while the failures go on (see the module
        docstring), so a message whose copy cannot be stored is not spun on.
        """
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except (_Stopping, Interrupted):
                break
            except Exception as exc:
                if self.should_stop:
                    break
                pause = self._restart_pause
                self._restart_pause = min(pause * 2, RESTART_PAUSE_MAX)
                logger.warning("event consumer: restarting in %ss after %r", pause, exc)
                self._close_publisher()
                deadline = time.monotonic() + pause
                while not self.should_stop and time.monotonic() < deadline:
                    self.alive.beat()
                    time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        self._close_publisher()
        self.alive.clear()

    # -- per message -----------------------------------------------------

    def on_message(self, message) -> None:
        self._handle(self._on_message, message)

    def _handle(self, work: Callable[..., None], *args) -> None:
        """Run ``work`` as message handling: a stop signal waits for it, never interrupts it."""
        self._handling = True
        try:
            work(*args)
        finally:
            self._handling = False

    def _on_message(self, message) -> None:
        taken = self._take(message)
        if taken is None:
            return
        if self.batch_size == 1:
            self._dispose_alone(taken)
            return
        self._batch.append(taken)
        if len(self._batch) >= self.batch_size:
            self._flush_batch()

    def _take(self, message) -> Taken | None:
        """Parse ``message`` for its handler; None if it was disposed of already (poison, put back, not yet due)."""
        headers = message.headers or {}
        try:
            attempt = _int_header(headers, ATTEMPT, default=1, minimum=1)
            db_retries = _int_header(headers, DB_RETRIES, default=0, minimum=0)
            not_before = _float_header(headers, NOT_BEFORE)
            if not_before is not None and not_before > time.time() + self.db_retry_delay + NOT_BEFORE_SLACK:
                raise PoisonMessage(f"{NOT_BEFORE} header lies too far ahead: {not_before!r}")
        except PoisonMessage as exc:
            self._dead_letter(message, exc.reason, None)
            return None
        if not_before is not None and time.time() < not_before:
            self._publish_copy(message, self.topology.queue_name(self.consumer_name), {})
            self._ack(message)
            time.sleep(max(0.0, min(0.05, not_before - time.time())))
            return None
        try:
            event = envelope.parse(message.body, attempt=attempt)
            handler = self.handlers.get(event.event_type)
            if handler is None:
                raise PoisonMessage(f"{self.consumer_name} has no handler for {event.event_type}")
        except PoisonMessage as exc:
            self._dead_letter(message, exc.reason, attempt)
            return None
        except Exception as exc:  # e.g. RecursionError on absurdly nested JSON: as permanent as bad JSON
            self._dead_letter(message, f"unparseable message: {_describe(exc)}", attempt)
            return None
        self._note_progress(event)
        return Taken(message=message, event=event, handler=handler, attempt=attempt, db_retries=db_retries)

    def _dispose_alone(self, taken: Taken) -> None:
        """Apply one message in a transaction of its own, then ack it, or store its retry or dead-letter copy."""
        message, event, attempt, db_retries = taken.message, taken.event, taken.attempt, taken.db_retries
        try:
            applied = self._apply_riding_out_blips(event, taken.handler)
        except DatabaseError as exc:
            if not database_away(exc):
                self._handler_failed(message, event, attempt, db_retries, exc)
                return
            self._reset_database()
            if db_retries >= self.max_db_retries:
                reason = f"database error persisted through {db_retries} retries: {_describe(exc)}"
                self._dead_letter(message, reason, attempt)
            else:
                logger.warning("event %s: database error, will retry: %s", event.event_id, _describe(exc))
                self._retry(message, attempt, db_retries + 1, self.db_retry_delay, f"database: {_describe(exc)}")
            return
        except PoisonMessage as exc:  # the handler saw what no retry can change (rolled back with the inbox row)
            self._dead_letter(message, exc.reason, attempt)
            return
        except Exception as exc:
            self._handler_failed(message, event, attempt, db_retries, exc)
            return
        self._applied(taken, applied)

    def _applied(self, taken: Taken, applied: bool) -> None:
        """Count and ack a message whose transaction committed (``applied`` False: a duplicate)."""
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
        if self.before_ack is not None:
            self.before_ack(taken.event)
        self._ack(taken.message)

    # -- batches ---------------------------------------------------------

    def _flush_batch(self) -> None:
        """Apply the gathered messages in one transaction, then dispose of each (see the module docstring)."""
        batch, self._batch = self._batch, []
        if len(batch) <= 1:
            for taken in batch:
                self._dispose_alone(taken)
            return
        try:
            outcomes = self._apply_batch(batch)
        except Exception as exc:
            # Nothing of the batch committed (or, if only the commit's answer was lost, the inbox recognises
            # what did): each message goes its own way, riding out blips alone.
            logger.warning("event consumer: batch of %s rolled back, one by one now: %s", len(batch), _describe(exc))
            self.batches_split += 1
            self._reset_database()  # whatever state the failure left the connection in
            for taken in batch:
                self._dispose_alone(taken)
            return
        self.batches += 1
        for taken, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, bool):
                self._applied(taken, outcome)
            elif isinstance(outcome, PoisonMessage):
                self._dead_letter(taken.message, outcome.reason, taken.attempt)
            else:
                self._handler_failed(taken.message, taken.event, taken.attempt, taken.db_retries, outcome)

    def _apply_batch(self, batch: Sequence[Taken]) -> list[bool | Exception]:
        """Apply each message of ``batch`` in a savepoint of one transaction; its outcome, or what it raised.

        Raises (the whole transaction rolled back) if anything escapes a savepoint: an
        error that says the database is away or busy (a deadlock between batches among
        them), the batch lock failing, or the transaction left unable to commit.
        """
        connection = connections[self.using]
        outcomes: list[bool | Exception] = []
        with transaction.atomic(using=self.using):
            if self.batch_lock is not None:
                self.batch_lock([taken.event for taken in batch])
            for taken in batch:
                try:
                    outcomes.append(self._apply(taken.event, taken.handler))
                except DatabaseError as exc:
                    if database_away(exc):
                        raise
                    outcomes.append(exc)
                except Exception as exc:  # PoisonMessage included: rolled back to the savepoint, alone
                    outcomes.append(exc)
            if _transaction_aborted(connection):
                # A savepoint that could not be rolled back: committing would silently roll back all.
                raise RuntimeError("the batch's transaction was aborted")
        return outcomes

    def _handler_failed(self, message, event: Event, attempt: int, db_retries: int, exc: Exception) -> None:
        """Retry through the next of ``RETRY_DELAYS``, or dead-letter once they are used up."""
        logger.warning("event %s (%s) attempt %s failed: %s", event.event_id, event.event_type, attempt, _describe(exc))
        if attempt >= self.max_attempts:
            self._dead_letter(message, f"handler failed {attempt} times: {_describe(exc)}", attempt)
        else:
            delay = self.retry_delays[attempt - 1]
            self._retry(message, attempt + 1, db_retries, delay, _describe(exc))

    def _ack(self, message) -> None:
        message.ack()
        self._restart_pause = 1.0  # a message went through: the broker side is healthy again

    def _reset_database(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be broken already
            close_old_connections()
        with contextlib.suppress(Exception):
            connections[self.using].close()

    def _note_progress(self, event: Event) -> None:
        """Record when an event was taken and when it occurred (``/metrics``' oldest waiting), once a second at most.

        Best effort, outside any transaction: a failure here is the database's, which the
        handler's own transaction meets next and which is retried there.
        """
        now = time.monotonic()
        if now - self._progress_noted_at < PROGRESS_INTERVAL:
            return
        try:
            # One upsert (INSERT ... ON CONFLICT DO UPDATE) instead of update_or_create's locking SELECT and UPDATE.
            ConsumerProgress.objects.using(self.using).bulk_create(
                [ConsumerProgress(consumer=self.consumer_name, taken_at=timezone.now(), occurred_at=event.occurred_at)],
                update_conflicts=True,
                unique_fields=["consumer"],
                update_fields=["taken_at", "occurred_at"],
            )
        except DatabaseError as exc:
            logger.warning("event consumer: progress not recorded: %s", _describe(exc))
            self._reset_database()
        else:
            self._progress_noted_at = now

    def _apply(self, event: Event, handler: Handler) -> bool:
        return apply_event(event, handler, consumer=self.consumer_name, using=self.using)

    def _apply_riding_out_blips(self, event: Event, handler: Handler) -> bool:
        """Apply ``event``, trying again in place after each pause of ``DB_RETRY_PAUSES`` on a database error.

        Each try is a fresh transaction on a fresh connection (the inbox row went with the
        rolled-back one). The error of the last try, or of one cut short by a stop, is raised
        for the delay-queue retry.
        """
        for pause in [*self.db_retry_pauses, None]:
            try:
                return self._apply(event, handler)
            except DatabaseError as exc:
                if pause is None or self.should_stop or not database_away(exc):
                    raise
                self._reset_database()
                logger.warning("event %s: database error, again in %ss: %s", event.event_id, pause, _describe(exc))
                self.db_retried_in_place += 1
                deadline = time.monotonic() + pause
                while time.monotonic() < deadline and not self.should_stop:
                    self.alive.beat()
                    time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        raise AssertionError("unreachable: the last try returns or raises")

    # -- retries and dead letters ---------------------------------------

    def _retry(self, message, attempt: int, db_retries: int, delay: float, reason: str) -> None:
        """Store a copy carrying ``attempt``/``db_retries`` due after ``delay``, then ack the original."""
        extra: dict[str, Any] = {ATTEMPT: attempt, REASON: reason[:500]}
        if db_retries:
            extra[DB_RETRIES] = db_retries
        if is_amqp(self.connection) and delay in self.retry_delays:
            target = self.topology.retry_name(self.consumer_name, delay)
        else:  # filesystem transport, or no delay queue at all: the consumer waits itself
            target = self.topology.queue_name(self.consumer_name)
            extra[NOT_BEFORE] = time.time() + delay
        self._publish_copy(message, target, extra)
        self.retried += 1
        self._ack(message)

    def _dead_letter(self, message, reason: str, attempt: int | None) -> None:
        """Store a DLQ copy with ``reason``, then ack; ``attempt`` None keeps the original header."""
        logger.error("event dead-lettered by %s: %s", self.consumer_name, reason)
        extra: dict[str, Any] = {
            REASON: reason[:1000],
            "x-erp-consumer": self.consumer_name,
            "x-erp-failed-at": timezone.now().isoformat(),
        }
        if attempt is not None:
            extra[ATTEMPT] = attempt
        # Without the db-retry count (it is in the reason) a replayed copy starts afresh.
        self._publish_copy(message, self.topology.dlq_name(self.consumer_name), extra, drop=(NOT_BEFORE, DB_RETRIES))
        self.dead_lettered += 1
        self._ack(message)

    def _publish_copy(self, message, queue_name: str, extra: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
        """Publish ``message`` to ``queue_name`` through the default exchange; confirmed on amqp.

        Raises :class:`CopyNotStored` unless the broker took the copy (see the module
        docstring): the caller must then leave the original unacked.
        """
        headers = {k: v for k, v in (message.headers or {}).items() if k not in drop and k != "x-death"}
        headers.setdefault(ROUTING_KEY, message.delivery_info.get("routing_key"))
        headers.update(extra)
        properties = message.properties or {}
        try:
            Producer(self._publisher_connection().default_channel).publish(
                message.body,
                exchange="",
                routing_key=queue_name,
                content_type=message.content_type or "application/json",
                content_encoding=message.content_encoding or "utf-8",
                delivery_mode=2,
                message_id=properties.get("message_id"),
                correlation_id=properties.get("correlation_id"),
                headers=headers,
                mandatory=True,  # an unroutable copy is returned (and raises), never dropped
                retry=False,
                timeout=conf.get("PUBLISH_TIMEOUT"),
            )
        except Exception as exc:
            self._close_publisher()
            logger.error("event consumer: copy to %s not stored, leaving the message unacked: %r", queue_name, exc)
            raise CopyNotStored(f"copy to {queue_name} not stored: {exc!r}") from exc

    def _publisher_connection(self) -> Connection:
        if self._publisher is None:
            conn = broker.connection(url=self.broker_url)
            try:
                conn.ensure_connection(max_retries=1, timeout=conf.get("PUBLISH_TIMEOUT"))
                if not is_amqp(conn):
                    # The filesystem transport routes by in-process state: declare here too.
                    self.topology.declare(conn, [self.consumer_name])
            except Exception:
                broker.close(conn, broken=True)
                raise
            self._publisher = conn
        return self._publisher

    def _close_publisher(self) -> None:
        # Dropped, not closed with a handshake: it is closed after errors, or when the
        # consuming connection was lost, and nothing on it awaits a reply any more.
        broker.close(self._publisher, broken=True)
        self._publisher = None
