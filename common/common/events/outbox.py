"""Write events to the outbox, inside the caller's transaction.

``publish_event`` only inserts a row; the relay (``manage.py relay_outbox``)
publishes it. After the commit a UDP datagram nudges the relay so it does not wait
for its next sweep: sending it never blocks and nobody needs to listen.
"""

from __future__ import annotations

import socket
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

from ..request_id import get_request_id
from . import conf, envelope
from .models import OutboxEvent
from .registry import EventType


class TransactionRequired(RuntimeError):
    """``publish_event`` was called outside ``transaction.atomic()``."""


_wakeup_socket: socket.socket | None = None


def publish_event(
    event_type: EventType, *, data: dict[str, Any], aggregate_id: str, using: str = DEFAULT_DB_ALIAS
) -> OutboxEvent:
    """Record ``event_type`` with ``data`` in the outbox, in the current transaction.

    Raises TransactionRequired outside ``transaction.atomic()`` (the event must
    commit or roll back with the change it reports) and EventDataError when ``data``
    does not carry exactly the declared fields.
    """
    if not isinstance(event_type, EventType):
        raise TypeError(f"event_type must be a registry.EventType, got {event_type!r}")
    if not transaction.get_connection(using).in_atomic_block:
        raise TransactionRequired(f"publish_event({event_type}) must be called inside transaction.atomic()")
    body, payload = envelope.build(event_type, data=data, correlation_id=get_request_id())
    row = OutboxEvent.objects.using(using).create(
        event_id=body["event_id"],
        event_type=event_type.name,
        version=event_type.version,
        producer=event_type.producer,
        aggregate_id=str(aggregate_id),
        correlation_id=body["correlation_id"] or "",
        occurred_at=body["occurred_at"],
        payload=payload,
    )
    transaction.on_commit(lambda: nudge_relay(using), using=using)
    return row


def nudge_relay(using: str = DEFAULT_DB_ALIAS) -> None:
    """Wake a relay of this database on this host; best effort, never raises."""
    global _wakeup_socket
    if conf.get("WAKEUP") != "udp":
        return
    try:
        if _wakeup_socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            _wakeup_socket = sock
        _wakeup_socket.sendto(b"w", conf.wakeup_address(using))
    except OSError:
        pass  # the periodic sweep will pick the row up
