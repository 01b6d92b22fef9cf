"""Build and parse the event envelope of CONTRACT §6, in this one place.

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

from . import jsonenc, registry
from .registry import EventType
from .schema import DataMismatch, to_primitive

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
    if isinstance(aggregate_version, bool) or not isinstance(aggregate_version, int) or aggregate_version < 1:
        raise EventDataError(f"{event_type}: aggregate_version must be a positive integer, got {aggregate_version!r}")
    if not str(aggregate_id):
        raise EventDataError(f"{event_type}: aggregate_id is empty")
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
    return envelope, jsonenc.dumps(envelope)


def parse(body: bytes | str, *, attempt: int = 1) -> Event:
    """Return the :class:`Event` in ``body`` or raise :class:`PoisonMessage`."""
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
    if isinstance(aggregate_version, bool) or not isinstance(aggregate_version, int) or aggregate_version < 1:
        raise PoisonMessage(f"aggregate_version is not a positive integer: {aggregate_version!r}")
    if not isinstance(raw["aggregate_id"], str) or not raw["aggregate_id"]:
        raise PoisonMessage(f"aggregate_id is not a non-empty string: {raw['aggregate_id']!r}")
    if not isinstance(raw["data"], dict):
        raise PoisonMessage("data is not a JSON object")
    try:
        data = event_type.to_data(raw["data"])
    except DataMismatch as exc:
        raise PoisonMessage(f"{event_type}: {exc}") from None
    correlation_id = raw["correlation_id"]
    return Event(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        producer=str(raw["producer"]),
        correlation_id=None if correlation_id is None else str(correlation_id),
        aggregate_id=raw["aggregate_id"],
        aggregate_version=aggregate_version,
        data=data,
        attempt=attempt,
    )
