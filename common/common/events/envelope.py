"""Build and parse the event envelope of contract §6, in this one place.

``{"event_id", "event_type", "version", "occurred_at", "producer", "correlation_id",
"aggregate_id", "aggregate_version", "data"}``. :func:`build` checks ``data`` against
its type's declaration (:class:`EventDataError`); :func:`parse` is the consumer's only
way in: anything it cannot trust (bad JSON, a missing field, an unknown type or
version, data that does not match its declaration) raises :class:`PoisonMessage`
with a reason, which sends the message to the dead-letter queue instead of retrying
something that can never succeed. Handlers get ``data`` as the declared frozen
dataclass, money as ``Decimal`` with two places.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import conf, jsonenc, registry
from .registry import EventType
from .schema import BIGINT_MAX, DataMismatch, to_primitive

ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "version",
    "occurred_at",
    "producer",
    "correlation_id",
    "aggregate_id",
    "aggregate_version",
    "data",
)
AGGREGATE_ID_MAX = 100  # the outbox's aggregate_id column
CORRELATION_ID_MAX = 128  # the outbox's and the inbox's correlation_id columns


class PoisonMessage(Exception):
    """A message that no retry can make acceptable; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EventDataError(ValueError):
    """``data`` (or the aggregate fields) do not match what the event type declares."""


@dataclass(frozen=True)
class Event:
    """A parsed event as handlers receive it; ``data`` is an instance of ``event_type.data``."""

    event_id: uuid.UUID
    event_type: EventType
    occurred_at: dt.datetime
    producer: str
    correlation_id: str | None
    aggregate_id: str
    aggregate_version: int
    data: Any
    attempt: int = field(default=1, compare=False)

    @property
    def version(self) -> int:
        return self.event_type.version


def check_data(event_type: EventType, data: Any) -> Any:
    """Return ``data`` as the declared data class, or raise :class:`EventDataError`."""
    try:
        return event_type.to_data(data)
    except DataMismatch as exc:
        raise EventDataError(f"{event_type}: {exc}") from None


def build(
    event_type: EventType,
    *,
    data: Any,
    aggregate_id: str,
    aggregate_version: int,
    event_id: uuid.UUID | None = None,
    occurred_at: dt.datetime | None = None,
    correlation_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Return the envelope and its JSON text (raises EventDataError, ValueError, TypeError)."""
    typed = check_data(event_type, data)
    if not _is_version(aggregate_version):
        raise EventDataError(f"{event_type}: aggregate_version must be a positive integer, got {aggregate_version!r}")
    if not 0 < len(str(aggregate_id)) <= AGGREGATE_ID_MAX:
        raise EventDataError(f"{event_type}: aggregate_id must have 1 to {AGGREGATE_ID_MAX} characters")
    envelope = {
        "event_id": event_id or uuid.uuid4(),
        "event_type": event_type.name,
        "version": event_type.version,
        "occurred_at": occurred_at or dt.datetime.now(dt.UTC),
        "producer": event_type.producer,
        "correlation_id": correlation_id,
        "aggregate_id": str(aggregate_id),
        "aggregate_version": aggregate_version,
        "data": to_primitive(typed),
    }
    text = jsonenc.dumps(envelope)
    if len(text.encode()) > conf.get("MAX_MESSAGE_BYTES"):
        # Refused here rather than dead-lettered by every consumer.
        raise EventDataError(f"{event_type}: the message is larger than {conf.get('MAX_MESSAGE_BYTES')} bytes")
    return envelope, text


def _is_version(value: Any) -> bool:
    """True for an ``aggregate_version``: a positive integer a bigint column holds."""
    return not isinstance(value, bool) and isinstance(value, int) and 1 <= value <= BIGINT_MAX


def parse(body: bytes | str, *, attempt: int = 1) -> Event:
    """Return the :class:`Event` in ``body`` or raise :class:`PoisonMessage`."""
    limit = conf.get("MAX_MESSAGE_BYTES")
    if len(body) > limit:  # characters of a str: at most its bytes, so never refused wrongly
        raise PoisonMessage(f"message of {len(body)} bytes is larger than {limit}")
    try:
        raw = jsonenc.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonMessage(f"bad JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise PoisonMessage("envelope is not a JSON object")
    missing = [name for name in ENVELOPE_FIELDS if name not in raw]
    if missing:
        raise PoisonMessage(f"envelope misses fields {missing}")
    name, version = raw["event_type"], raw["version"]
    if not isinstance(name, str) or not isinstance(version, int) or isinstance(version, bool):
        raise PoisonMessage("event_type must be a string and version an integer")
    event_type = registry.lookup(name, version)
    if event_type is None:
        raise PoisonMessage(f"unknown event type or version: {name} v{version}")
    if raw["producer"] != event_type.producer:
        # Only one service publishes a type (publish_event refuses the others): another
        # producer is a misrouted or forged message, never one to apply.
        raise PoisonMessage(f"{event_type} is produced by {event_type.producer}, not {raw['producer']!r}")
    try:
        event_id = uuid.UUID(str(raw["event_id"]))
    except ValueError:
        raise PoisonMessage(f"event_id is not a UUID: {raw['event_id']!r}") from None
    try:
        occurred_at = dt.datetime.fromisoformat(str(raw["occurred_at"]))
    except ValueError:
        raise PoisonMessage(f"occurred_at is not ISO 8601: {raw['occurred_at']!r}") from None
    if occurred_at.tzinfo is None:
        raise PoisonMessage("occurred_at has no time zone")
    aggregate_version = raw["aggregate_version"]
    if not _is_version(aggregate_version):
        raise PoisonMessage(f"aggregate_version is not a positive integer: {aggregate_version!r:.60}")
    aggregate_id = raw["aggregate_id"]
    if not isinstance(aggregate_id, str) or not 0 < len(aggregate_id) <= AGGREGATE_ID_MAX:
        raise PoisonMessage(f"aggregate_id is not a string of 1 to {AGGREGATE_ID_MAX} characters: {aggregate_id!r:.60}")
    correlation_id = raw["correlation_id"]
    if correlation_id is not None and (not isinstance(correlation_id, str) or len(correlation_id) > CORRELATION_ID_MAX):
        # The inbox stores it: a longer one would fail the insert, again on every retry.
        raise PoisonMessage(f"correlation_id is not a string of at most {CORRELATION_ID_MAX} characters")
    if not isinstance(raw["data"], dict):
        raise PoisonMessage("data is not a JSON object")
    try:
        data = event_type.to_data(raw["data"])
    except DataMismatch as exc:
        raise PoisonMessage(f"{event_type}: {exc}") from None
    return Event(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        producer=event_type.producer,
        correlation_id=correlation_id,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        data=data,
        attempt=attempt,
    )
