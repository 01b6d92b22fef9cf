"""Write events to the outbox, inside the caller's transaction.

``publish_event`` only inserts a row; the relay (``manage.py relay_outbox``)
publishes it. It also wakes the relay so it does not wait for its next sweep:

- on PostgreSQL, ``pg_notify`` in the same transaction: the server delivers it on
  commit (never for a rollback) to a relay listening on any host;
- on SQLite (one host by nature), a UDP datagram after the commit: sending it never
  blocks and nobody needs to listen.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

from ..request_id import get_request_id
from . import conf, envelope
from .models import OutboxEvent
from .registry import EventType


class TransactionRequired(RuntimeError):
    """``publish_event`` was called outside ``transaction.atomic()``."""


class ForeignEvent(RuntimeError):
    """This service tried to publish an event type that another service produces."""


_wakeup_socket: socket.socket | None = None


def publish_event(
    event_type: EventType,
    *,
    data: Any,
    aggregate_id: Any,
    aggregate_version: int,
    using: str = DEFAULT_DB_ALIAS,
) -> OutboxEvent:
    """Record ``event_type`` with ``data`` in the outbox, in the current transaction.

    ``data`` is an instance of ``event_type.data`` (a mapping of the same fields is
    checked the same way). ``aggregate_id`` names the record the event is about and
    ``aggregate_version`` its version after this change: the caller has locked that
    row (``select_for_update``) and bumped its version in the UPDATE that made the
    change, before publishing, so two concurrent changes of one record can never
    publish the same version, and a consumer can tell the newer of two events
    (delivery is at least once and unordered: see ``common.events.apply_if_newer``).

    Raises TransactionRequired outside ``transaction.atomic()`` (the event must
    commit or roll back with the change it reports), ForeignEvent when
    ``event_type`` is not produced by this service (``settings.SERVICE_NAME``), and
    EventDataError when ``data`` does not match the declaration.
    """
    row = _outbox_row(
        event_type, data=data, aggregate_id=aggregate_id, aggregate_version=aggregate_version, using=using
    )
    row.save(using=using, force_insert=True)
    _wake_relay(using)
    return row


@dataclass(frozen=True)
class PendingEvent:
    """The arguments of one :func:`publish_event`, for :func:`publish_events`."""

    event_type: EventType
    data: Any
    aggregate_id: Any
    aggregate_version: int


def publish_events(events: Sequence[PendingEvent], *, using: str = DEFAULT_DB_ALIAS) -> list[OutboxEvent]:
    """Record many events, as :func:`publish_event` would one by one, in a few multi-row INSERTs.

    The same checks and rows, in the given order (ids ascending); the relay is woken once.
    For writes of many records at once (the CSV imports).
    """
    rows = [
        _outbox_row(
            event.event_type,
            data=event.data,
            aggregate_id=event.aggregate_id,
            aggregate_version=event.aggregate_version,
            using=using,
        )
        for event in events
    ]
    if rows:
        OutboxEvent.objects.using(using).bulk_create(rows, batch_size=1000)
        _wake_relay(using)
    return rows


def _outbox_row(event_type: EventType, *, data: Any, aggregate_id: Any, aggregate_version: int, using: str):
    if not isinstance(event_type, EventType):
        raise TypeError(f"event_type must be a registry.EventType, got {event_type!r}")
    if event_type.producer != settings.SERVICE_NAME:
        raise ForeignEvent(f"{settings.SERVICE_NAME} cannot publish {event_type}: {event_type.producer} produces it")
    if not transaction.get_connection(using).in_atomic_block:
        raise TransactionRequired(f"publish_event({event_type}) must be called inside transaction.atomic()")
    body, payload = envelope.build(
        event_type,
        data=data,
        aggregate_id=str(aggregate_id),
        aggregate_version=aggregate_version,
        correlation_id=get_request_id(),
    )
    return OutboxEvent(
        event_id=body["event_id"],
        event_type=event_type.name,
        version=event_type.version,
        producer=event_type.producer,
        aggregate_id=str(aggregate_id),
        correlation_id=body["correlation_id"] or "",
        occurred_at=body["occurred_at"],
        payload=payload,
    )


def _wake_relay(using: str) -> None:
    wakeup = conf.wakeup_mode(using)
    if wakeup == "notify":
        with transaction.get_connection(using).cursor() as cursor:
            # Delivered by the server at commit, to listeners on any host; never on rollback.
            cursor.execute("SELECT pg_notify(%s, '')", [conf.notify_channel()])
    elif wakeup == "udp":
        transaction.on_commit(lambda: nudge_relay(using), using=using)


def nudge_relay(using: str = DEFAULT_DB_ALIAS) -> None:
    """Wake a relay of this database on this host; best effort, never raises."""
    global _wakeup_socket
    try:
        if _wakeup_socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            _wakeup_socket = sock
        _wakeup_socket.sendto(b"w", conf.wakeup_address(using))
    except OSError:
        pass  # the periodic sweep will pick the row up
