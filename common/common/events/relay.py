"""Publish pending outbox rows to the broker: ``manage.py relay_outbox`` runs :class:`Relay`.

Why a plain loop and not Celery worker + beat: the relay must keep working while
the broker is away (that is what the outbox is for), and Celery needs that very
broker to schedule and deliver its own tasks; beat's sweep granularity adds a
second of latency, and a task per commit would put a broker round trip on the
request path.

Waking up: on PostgreSQL the relay ``LISTEN``s on the channel that ``publish_event``
notifies inside the publishing transaction (the server delivers it on commit, to a
relay on any host); on SQLite it waits on the UDP port that ``publish_event``
nudges after each commit (one host). It sweeps every ``RELAY_SWEEP_INTERVAL``
seconds anyway (a lost wake-up, a listen connection being re-made).

Each batch claims up to ``RELAY_BATCH_SIZE`` pending rows in id order and marks them
sent in one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays
share the work; SQLite serialises writers anyway), publishes each persistent with a
publisher confirm (routing key = event type, message id = event id), and commits only
then: the rows it could not publish go back to pending in the same transaction. The
batch is small (50 by default: one more claim per 50 rows costs little) because it is
also what a crash can duplicate. What is true, and all that consumers may rely on:

- **at least once**: a relay killed between a confirm and the commit of its batch
  republishes at most that batch; consumers deduplicate on ``event_id``;
- **unordered**: rows go out roughly in id order, but several relays, retries and
  competing consumers reorder them. Consumers compare ``aggregate_version``
  (``common.events.apply_if_newer``), never arrival order.

Every broker call is bounded (see :mod:`common.events.broker`): a half-open link
makes a confirm or a heartbeat time out, the connection is dropped without a close
handshake, and the next turn reconnects. ``stop()`` (SIGTERM) ends the loop after
the current broker call, which is never longer than ``PUBLISH_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.utils import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone
from kombu import Connection, Producer

from . import broker, conf, liveness
from .models import OutboxEvent, pending_outbox_transaction
from .shutdown import Interrupted
from .topology import Topology

logger = logging.getLogger("common.events.relay")


class Relay:
    def __init__(
        self,
        *,
        broker_url: str | None = None,
        topology: Topology | None = None,
        batch_size: int | None = None,
        sweep_interval: float | None = None,
        using: str = DEFAULT_DB_ALIAS,
        listen: bool = True,
        on_published: Callable[[OutboxEvent], None] | None = None,
    ):
        settings = conf.events_settings()
        self.broker_url = broker_url
        self.topology = topology or Topology()
        self.batch_size = batch_size or settings["RELAY_BATCH_SIZE"]
        self.sweep_interval = sweep_interval if sweep_interval is not None else settings["RELAY_SWEEP_INTERVAL"]
        self.backoff_initial = settings["RELAY_BACKOFF_INITIAL"]
        self.backoff_max = settings["RELAY_BACKOFF_MAX"]
        self.publish_timeout = settings["PUBLISH_TIMEOUT"]
        self.heartbeat = settings["HEARTBEAT"]
        self.using = using
        self.listen = listen
        self.on_published = on_published  # test hook: called after a confirm, before the commit
        self._stop = threading.Event()
        self._stop_r, self._stop_w = socket.socketpair()
        self._wakeup: socket.socket | None = None
        self._listener = None  # psycopg connection LISTENing for commit notifications
        self._listener_retry_at = 0.0
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self.published = 0
        self.alive = liveness.Heartbeat("relay")
        # True while the relay waits on the broker (connect, declare, confirm, heartbeat):
        # a SIGTERM then interrupts the wait (common.events.shutdown).
        self.waiting_on_broker = False

    # -- lifecycle -------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish its current broker call and return (signal-safe)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._stop_w.send(b"x")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_forever(self) -> None:
        self._bind_wakeup()
        backoff = self.backoff_initial
        logger.info("outbox relay started", extra={"exchange": self.topology.exchange.name})
        try:
            while not self.stopping:
                self.alive.beat()
                try:
                    count = self.relay_batch()
                    self._keep_broker_alive()
                except (DatabaseError, InterfaceError, OperationalError) as exc:
                    logger.warning("outbox relay: database unavailable: %s", exc)
                    close_old_connections()
                    self._wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                except Exception as exc:  # the broker's many error types: retry them all with backoff
                    logger.warning("outbox relay: broker unavailable, retrying in %.1fs: %r", backoff, exc)
                    self._close_broker(broken=True)
                    self._wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                backoff = self.backoff_initial
                if count < self.batch_size:
                    self._wait(self.sweep_interval)
        except Interrupted:
            logger.info("outbox relay: stop requested during a broker call; its batch rolled back")
            self._close_broker(broken=True)
        finally:
            self._close_broker(broken=False)
            self._close_wakeup()
            connections[self.using].close()
            self.alive.clear()
            logger.info("outbox relay stopped", extra={"published": self.published})

    def close(self) -> None:
        """Release the broker connection of a relay used without :meth:`run_forever`."""
        self._close_broker(broken=False)

    # -- one batch -------------------------------------------------------

    def relay_batch(self) -> int:
        """Publish up to ``batch_size`` pending rows; return how many were marked sent."""
        with self._broker_wait():
            producer = self._ensure_producer()
        if self.stopping:  # asked to stop while connecting: claim nothing only to put it back
            return 0
        with pending_outbox_transaction(using=self.using, synchronous_commit=False):
            rows = self._claim_batch()
            if not rows:
                return 0
            sent: list[int] = []
            failure: Exception | None = None
            for row in rows:
                if self.stopping:
                    break
                try:
                    with self._broker_wait():
                        self._publish(producer, row)
                except Exception as exc:
                    failure = exc
                    break
                sent.append(row.id)
                if self.on_published is not None:
                    self.on_published(row)
            if len(sent) < len(rows):
                self._unclaim(rows[len(sent) :], failure=failure)
        self.published += len(sent)
        if failure is not None:
            raise failure
        return len(sent)

    def _claim_batch(self) -> list[OutboxEvent]:
        """Mark up to ``batch_size`` pending rows sent, in id order, and return them: one statement.

        The mark commits only with the broker's confirms (``relay_batch``). One UPDATE that
        returns the rows, rather than a locking SELECT and an UPDATE built by the ORM: half of a
        relay's CPU per turn went into building those two queries (docs/performance.md). It runs
        through ``raw()``, iterated once, for the rows it returns: as models, with each database's
        conversions applied (SQLite returns ids and times as text).
        """
        connection = connections[self.using]
        quote = connection.ops.quote_name
        meta = OutboxEvent._meta
        table, pk, sent_at = quote(meta.db_table), quote(meta.pk.column), quote(meta.get_field("sent_at").column)
        columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
        lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        claim = (
            f"UPDATE {table} SET {sent_at} = %s WHERE {pk} IN ("  # noqa: S608 (names from the model)
            f"SELECT {pk} FROM {table} WHERE {sent_at} IS NULL ORDER BY {pk} LIMIT %s{lock}) RETURNING {columns}"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = OutboxEvent.objects.using(self.using).raw(claim, [now, self.batch_size])
        return sorted(rows, key=lambda row: row.id)

    def _unclaim(self, rows: list[OutboxEvent], *, failure: Exception | None) -> None:
        """Put back to pending the claimed rows not published; the first one failed if ``failure`` is set."""
        pending = OutboxEvent.objects.using(self.using)
        if failure is not None:
            failed, rows = rows[0], rows[1:]
            pending.filter(id=failed.id).update(
                sent_at=None, publish_attempts=failed.publish_attempts + 1, last_error=repr(failure)[:1000]
            )
        if rows:
            pending.filter(id__in=[row.id for row in rows]).update(sent_at=None)

    def _publish(self, producer: Producer, row: OutboxEvent) -> None:
        producer.publish(
            row.payload.encode(),
            exchange=self.topology.exchange,
            routing_key=row.event_type,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=str(row.event_id),
            **({"correlation_id": row.correlation_id} if row.correlation_id else {}),
            headers={"event_type": row.event_type, "version": row.version, "producer": row.producer},
            retry=False,
            timeout=self.publish_timeout,
        )

    # -- broker ----------------------------------------------------------

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            conn = broker.connection(url=self.broker_url, heartbeat=self.heartbeat)
            try:
                conn.ensure_connection(max_retries=1, timeout=self.publish_timeout)
                self.topology.declare(conn)
            except Exception:
                broker.close(conn, broken=True)
                raise
            self._conn = conn
            self._producer = Producer(conn.default_channel)
        return self._producer

    @contextlib.contextmanager
    def _broker_wait(self):
        self.waiting_on_broker = True
        try:
            yield
        finally:
            self.waiting_on_broker = False

    def _keep_broker_alive(self) -> None:
        """Read what the broker sent (heartbeats) and send ours; raises if the link is dead."""
        conn = self._conn
        if conn is None or not self.heartbeat or conn.transport.driver_type != "amqp":
            return
        with self._broker_wait():
            with contextlib.suppress(socket.timeout, TimeoutError):
                # Each drain bounded: with a zero timeout py-amqp spins on a frame only partly arrived.
                while broker.has_arrived(conn):
                    conn.drain_events(timeout=broker.ARRIVED_WAIT)
            conn.heartbeat_check()

    def _close_broker(self, *, broken: bool) -> None:
        broker.close(self._conn, broken=broken)
        self._conn = None
        self._producer = None

    # -- waiting ---------------------------------------------------------

    def _bind_wakeup(self) -> None:
        if not self.listen:
            return
        mode = conf.wakeup_mode(self.using)
        if mode == "notify":
            self._listen()
        elif mode == "udp":
            self._bind_udp()

    def _bind_udp(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Several relays on one host share the port; the kernel hands each datagram to one of them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind(conf.wakeup_address(self.using))
        except OSError as exc:
            logger.warning("outbox relay: no wake-up socket (%s); sweeping only", exc)
            sock.close()
            return
        sock.setblocking(False)
        self._wakeup = sock

    def _listen(self) -> None:
        """Open an autocommit connection that LISTENs for commit notifications (best effort)."""
        from psycopg import sql

        database = connections[self.using]
        params = database.get_connection_params()
        # A dead database link must not leave the relay deaf for long: TCP keepalives.
        params.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        try:
            listener = database.get_new_connection(params)
            listener.autocommit = True
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(conf.notify_channel())))
        except Exception as exc:
            logger.warning("outbox relay: cannot LISTEN (%s); sweeping only for now", exc)
            self._listener_retry_at = time.monotonic() + self.backoff_max
            return
        self._listener = listener

    def _close_wakeup(self) -> None:
        if self._wakeup is not None:
            self._wakeup.close()
            self._wakeup = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.close()
            self._listener = None

    def _wait(self, timeout: float) -> None:
        """Sleep until a commit wake-up, a stop request or ``timeout``."""
        if self.stopping:
            return
        if self.listen and self._listener is None and conf.wakeup_mode(self.using) == "notify":
            if time.monotonic() >= self._listener_retry_at:
                self._listen()
        watched: list = [self._stop_r]
        if self._wakeup is not None:
            watched.append(self._wakeup)
        if self._listener is not None:
            watched.append(self._listener)
        readable, _, _ = select.select(watched, [], [], max(0.0, timeout))
        if self._wakeup is not None and self._wakeup in readable:
            with contextlib.suppress(BlockingIOError):
                while self._wakeup.recv(64):
                    pass
        if self._listener is not None and self._listener in readable:
            try:
                for _ in self._listener.notifies(timeout=0):
                    pass
            except Exception as exc:  # the database went away: listen again on a later turn
                logger.warning("outbox relay: lost the LISTEN connection (%s)", exc)
                with contextlib.suppress(Exception):
                    self._listener.close()
                self._listener = None
