"""Consume a service's queue and apply each event exactly once: ``manage.py consume_events``.

Built on kombu's ``ConsumerMixin`` rather than a Celery worker: the events are
plain JSON messages published by other services (no Celery task protocol), and
the mixin brings what we need and nothing else: reconnection with backoff when
the broker goes away, a drain loop that checks ``should_stop`` between messages
(SIGTERM finishes the current message, never half of it), and manual acks.
Retry and dead-letter copies go through a second connection with publisher
confirms, so a copy is safely stored before the original is acked, and waiting
for a confirm never re-enters the consuming channel.

Per message:

1. :func:`envelope.parse`; a bad message (or a type without a handler) goes to
   ``<service>.events.dlq`` with the reason in the ``x-erp-reason`` header.
2. In one transaction: ``INSERT`` an :class:`InboxEvent` (``ON CONFLICT DO
   NOTHING``; a conflict means a duplicate, acked without effect) and call the
   handler. On PostgreSQL a concurrent consumer of the same event waits on the
   unique index and then sees the conflict.
3. Ack after the commit. A crash between commit and ack redelivers the message,
   which step 2 recognises as a duplicate.
4. A handler exception is retried through ``<service>.events.retry.<ms>ms`` with
   the delays of ``RETRY_DELAYS`` (header ``x-erp-attempt``), then dead-lettered.
   A database ``OperationalError`` (database away, deadlock) is retried at the
   longest delay without using up attempts: it says nothing about the message.

On the filesystem transport (no TTL, no dead-lettering) a retry is republished to
the service queue with ``x-erp-not-before``; the consumer puts a message back
until that time has come, sleeping briefly so it does not spin.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu import Connection, Producer
from kombu.mixins import ConsumerMixin

from ..request_id import reset_request_id, set_request_id
from . import broker, conf, envelope
from .envelope import Event, PoisonMessage
from .models import InboxEvent
from .registry import SUBSCRIPTIONS, EventType
from .topology import Topology, is_amqp

logger = logging.getLogger("common.events.consumer")

Handler = Callable[[Event], Any]

ATTEMPT = "x-erp-attempt"
REASON = "x-erp-reason"
NOT_BEFORE = "x-erp-not-before"
ROUTING_KEY = "x-erp-routing-key"


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


class _Stopping(Exception):
    """Raised from the reconnect wait once a stop was asked for."""


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
        self.consumer_name = consumer or settings["CONSUMER"]
        if not self.consumer_name:
            raise ImproperlyConfigured('ERP_EVENTS["CONSUMER"] names the consuming service')
        self.handlers = load_handlers(self.consumer_name, handlers)
        self.topology = topology or Topology()
        self.retry_delays = self.topology.retry_delays
        self.max_attempts = len(self.retry_delays) + 1
        self.prefetch = prefetch or settings["PREFETCH"]
        self.using = using
        self.before_ack = before_ack  # test hook: runs after the commit, before the ack
        self.connection = broker.connection(url=broker_url, heartbeat=settings["HEARTBEAT"], confirm=False)
        self.broker_url = broker_url
        self._publisher: Connection | None = None
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.retried = 0

    # -- kombu hooks -----------------------------------------------------

    def get_consumers(self, Consumer, channel):
        return [Consumer(queues=[self.topology.queue(self.consumer_name)], on_message=self.on_message,
                         prefetch_count=self.prefetch, no_ack=False)]  # fmt: skip

    def on_connection_revived(self) -> None:
        self._close_publisher()
        # ``self.connection`` is cloned per attempt; declare on a short-lived clone.
        with self.connection.clone() as conn:
            self.topology.declare(conn)

    @contextlib.contextmanager
    def establish_connection(self):
        # kombu's version sleeps through its reconnect backoff (up to 30 s) without
        # looking at should_stop; the callback runs every second of that wait, so a
        # SIGTERM during a broker outage ends the process promptly.
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries, callback=self._abort_if_stopping)
            yield conn

    def _abort_if_stopping(self) -> None:
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
        """Consume until stopped, reconnecting after any broker failure (not only the listed ones)."""
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except _Stopping:
                break
            except Exception as exc:
                if self.should_stop:
                    break
                logger.warning("event consumer: restarting after %r", exc)
                self._close_publisher()
                time.sleep(1)
        self._close_publisher()

    # -- per message -----------------------------------------------------

    def on_message(self, message) -> None:
        headers = message.headers or {}
        attempt = int(headers.get(ATTEMPT) or 1)
        not_before = headers.get(NOT_BEFORE)
        if not_before is not None and time.time() < float(not_before):
            self._publish_copy(message, self.topology.queue_name(self.consumer_name), {})
            message.ack()
            time.sleep(min(0.05, float(not_before) - time.time()))
            return
        try:
            event = envelope.parse(message.body, attempt=attempt)
            handler = self.handlers.get(event.event_type)
            if handler is None:
                raise PoisonMessage(f"{self.consumer_name} has no handler for {event.event_type}")
        except PoisonMessage as exc:
            self._dead_letter(message, exc.reason, attempt)
            return
        try:
            applied = self._apply(event, handler)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("event %s: database error, will retry: %r", event.event_id, exc)
            close_old_connections()
            connections[self.using].close()
            self._retry(message, attempt, f"database: {exc!r}", count_attempt=False)
            return
        except Exception as exc:
            logger.warning("event %s (%s) attempt %s failed: %r", event.event_id, event.event_type, attempt, exc)
            if attempt >= self.max_attempts:
                self._dead_letter(message, f"handler failed {attempt} times: {exc!r}", attempt)
            else:
                self._retry(message, attempt, repr(exc), count_attempt=True)
            return
        if applied:
            self.applied += 1
        else:
            self.duplicates += 1
        if self.before_ack is not None:
            self.before_ack(event)
        message.ack()

    def _apply(self, event: Event, handler: Handler) -> bool:
        """Run the handler with the inbox record in one transaction; False for a duplicate."""
        connection = connections[self.using]
        field = InboxEvent._meta.get_field("event_id")
        table = connection.ops.quote_name(InboxEvent._meta.db_table)
        with transaction.atomic(using=self.using):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (event_id, consumer, event_type, version, correlation_id, received_at) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, consumer) DO NOTHING RETURNING id",
                    [
                        field.get_db_prep_value(event.event_id, connection),
                        self.consumer_name,
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
        return True

    # -- retries and dead letters ---------------------------------------

    def _retry(self, message, attempt: int, reason: str, *, count_attempt: bool) -> None:
        next_attempt = attempt + 1 if count_attempt else attempt
        delay = self.retry_delays[min(attempt, len(self.retry_delays)) - 1] if self.retry_delays else 0
        extra: dict[str, Any] = {ATTEMPT: next_attempt, REASON: reason[:500]}
        if self._publisher_is_amqp():
            target = self.topology.retry_name(self.consumer_name, delay)
        else:
            target = self.topology.queue_name(self.consumer_name)
            extra[NOT_BEFORE] = time.time() + delay
        self._publish_copy(message, target, extra)
        self.retried += 1
        message.ack()

    def _dead_letter(self, message, reason: str, attempt: int) -> None:
        logger.error("event dead-lettered by %s: %s", self.consumer_name, reason)
        extra = {
            REASON: reason[:1000],
            ATTEMPT: attempt,
            "x-erp-consumer": self.consumer_name,
            "x-erp-failed-at": timezone.now().isoformat(),
        }
        self._publish_copy(message, self.topology.dlq_name(self.consumer_name), extra, drop=(NOT_BEFORE,))
        self.dead_lettered += 1
        message.ack()

    def _publish_copy(self, message, queue_name: str, extra: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
        """Publish ``message`` to ``queue_name`` through the default exchange; confirmed on amqp."""
        headers = {k: v for k, v in (message.headers or {}).items() if k not in drop and k != "x-death"}
        headers.setdefault(ROUTING_KEY, message.delivery_info.get("routing_key"))
        headers.update(extra)
        properties = message.properties or {}
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
            retry=False,
            timeout=conf.get("PUBLISH_TIMEOUT"),
        )

    def _publisher_connection(self) -> Connection:
        if self._publisher is None:
            conn = broker.connection(url=self.broker_url)
            conn.ensure_connection(max_retries=1, timeout=conf.get("PUBLISH_TIMEOUT"))
            if not is_amqp(conn):
                # The filesystem transport routes by in-process state: declare here too.
                self.topology.declare(conn, [self.consumer_name])
            self._publisher = conn
        return self._publisher

    def _publisher_is_amqp(self) -> bool:
        return is_amqp(self._publisher_connection())

    def _close_publisher(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close
                self._publisher.release()
            self._publisher = None
