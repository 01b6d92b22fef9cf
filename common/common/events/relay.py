"""Publish pending outbox rows to the broker: ``manage.py relay_outbox`` runs :class:`Relay`.

Why a plain loop and not Celery worker + beat: the relay must keep working while
the broker is away (that is what the outbox is for), and Celery needs that very
broker to schedule and deliver its own tasks; beat's sweep granularity adds a
second of latency, and a task per commit would put a broker round trip on the
request path. The loop here waits on a UDP socket that ``publish_event`` nudges
after each commit (sub-millisecond wake-up on one host) and sweeps every
``RELAY_SWEEP_INTERVAL`` seconds anyway (relays on other hosts, lost datagrams).

Each batch runs in one database transaction: lock pending rows in id order
(``select_for_update(skip_locked=True)`` on PostgreSQL, so several relays share
the work; SQLite serialises writers anyway), publish each with a publisher confirm,
persistent, routing key = event type, message id = event id, then mark the
confirmed ones sent. A relay killed between the confirm and the commit republishes
the row later: delivery is at least once and consumers deduplicate on event_id.
A row whose aggregate has an earlier pending row locked by another relay is left
for later, which keeps events of one aggregate in order.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction
from django.db.utils import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone
from kombu import Connection, Producer

from . import broker, conf
from .models import OutboxEvent
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
        self.using = using
        self.listen = listen
        self.on_published = on_published  # test hook: called after a confirm, before the commit
        self._stop = threading.Event()
        self._stop_r, self._stop_w = socket.socketpair()
        self._wakeup: socket.socket | None = None
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self.published = 0

    # -- lifecycle -------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return (signal-safe)."""
        self._stop.set()
        try:
            self._stop_w.send(b"x")
        except OSError:
            pass

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_forever(self) -> None:
        self._bind_wakeup()
        backoff = self.backoff_initial
        logger.info("outbox relay started", extra={"exchange": self.topology.exchange.name})
        try:
            while not self.stopping:
                try:
                    count = self.relay_batch()
                except (DatabaseError, InterfaceError, OperationalError) as exc:
                    logger.warning("outbox relay: database unavailable: %s", exc)
                    close_old_connections()
                    self._wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                except Exception as exc:  # the broker's many error types: retry them all with backoff
                    logger.warning("outbox relay: broker unavailable, retrying in %.1fs: %r", backoff, exc)
                    self._close_broker()
                    self._wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
                backoff = self.backoff_initial
                if count < self.batch_size:
                    self._wait(self.sweep_interval)
        finally:
            self._close_broker()
            if self._wakeup is not None:
                self._wakeup.close()
            connections[self.using].close()
            logger.info("outbox relay stopped", extra={"published": self.published})

    # -- one batch -------------------------------------------------------

    def relay_batch(self) -> int:
        """Publish up to ``batch_size`` pending rows; return how many were marked sent."""
        producer = self._ensure_producer()
        with transaction.atomic(using=self.using):
            rows = self._lock_batch()
            if not rows:
                return 0
            sent: list[int] = []
            failure: Exception | None = None
            for row in rows:
                try:
                    self._publish(producer, row)
                except Exception as exc:
                    failure = exc
                    OutboxEvent.objects.using(self.using).filter(id=row.id).update(
                        publish_attempts=row.publish_attempts + 1, last_error=repr(exc)[:1000]
                    )
                    break
                sent.append(row.id)
                if self.on_published is not None:
                    self.on_published(row)
            if sent:
                OutboxEvent.objects.using(self.using).filter(id__in=sent).update(sent_at=timezone.now())
        self.published += len(sent)
        if failure is not None:
            raise failure
        return len(sent)

    def _lock_batch(self) -> list[OutboxEvent]:
        pending = OutboxEvent.objects.using(self.using).filter(sent_at__isnull=True).order_by("id")
        rows = list(pending.select_for_update(skip_locked=True)[: self.batch_size])
        if not rows or connections[self.using].vendor != "postgresql":
            return rows
        # Another relay may hold earlier rows of the same aggregates: leave those
        # aggregates to a later batch so each aggregate's events stay in order.
        mine = {row.id for row in rows}
        held = (
            pending.filter(aggregate_id__in={row.aggregate_id for row in rows}, id__lt=rows[-1].id)
            .exclude(id__in=mine)
            .values_list("aggregate_id", "id")
        )
        first_held: dict[str, int] = {}
        for aggregate_id, row_id in held:
            first_held[aggregate_id] = min(row_id, first_held.get(aggregate_id, row_id))
        return [row for row in rows if row.id < first_held.get(row.aggregate_id, row.id + 1)]

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
            conn = broker.connection(url=self.broker_url)
            try:
                conn.ensure_connection(max_retries=1, timeout=self.publish_timeout)
                self.topology.declare(conn)
            except Exception:
                conn.release()
                raise
            self._conn = conn
            self._producer = Producer(conn.default_channel)
        return self._producer

    def _close_broker(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close
                self._conn.release()
        self._conn = None
        self._producer = None

    # -- waiting ---------------------------------------------------------

    def _bind_wakeup(self) -> None:
        if not self.listen or conf.get("WAKEUP") != "udp":
            return
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

    def _wait(self, timeout: float) -> None:
        """Sleep until a commit nudge, a stop request or ``timeout``."""
        if self.stopping:
            return
        watched = [self._stop_r] + ([self._wakeup] if self._wakeup is not None else [])
        deadline = time.monotonic() + timeout
        readable, _, _ = select.select(watched, [], [], max(0.0, deadline - time.monotonic()))
        if self._wakeup in readable:
            try:
                while self._wakeup.recv(64):
                    pass
            except BlockingIOError:
                pass
