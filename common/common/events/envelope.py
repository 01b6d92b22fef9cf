"""Build and parse the event envelope of CONTRACT §6, in this one place.

``{"event_id", "event_type", "version", "occurred_at", "producer", "correlation_id", "data"}``.
:func:`parse` is the consumer's only way in: anything it cannot trust (bad JSON,
a missing field, an unknown type or version, data without its declared fields)
raises :class:`PoisonMessage` with a reason, which sends the message to the
dead-letter queue instead of retrying something that can never succeed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import jsonenc, registry
from .registry import EventType

ENVELOPE_FIELDS = ("event_id", "event_type", "version", "occurred_at", "producer", "correlation_id", "data")


class PoisonMessage(Exception):
    """A message that no retry can make acceptable; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EventDataError(ValueError):
    """``data`` does not carry exactly the fields its event type declares."""


@dataclass(frozen=True)
class Event:
    """A parsed event as handlers receive it."""

    event_id: uuid.UUID
    event_type: EventType
    occurred_at: dt.datetime
    producer: str
    correlation_id: str | None
    data: dict[str, Any]
    attempt: int = field(default=1, compare=False)

    @property
    def version(self) -> int:
        return self.event_type.version


def check_data(event_type: EventType, data: dict[str, Any]) -> None:
    """Raise :class:`EventDataError` unless ``data`` has exactly the declared fields."""
    if not isinstance(data, dict):
        raise EventDataError(f"{event_type}: data must be a dict, got {type(data).__name__}")
    missing = [name for name in event_type.fields if name not in data]
    extra = sorted(set(data) - set(event_type.fields))
    if missing or extra:
        raise EventDataError(f"{event_type}: missing fields {missing}, unexpected fields {extra}")


def build(
    event_type: EventType,
    *,
    data: dict[str, Any],
    event_id: uuid.UUID | None = None,
    occurred_at: dt.datetime | None = None,
    correlation_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Return the envelope and its JSON text (raises EventDataError, ValueError, TypeError)."""
    check_data(event_type, data)
    envelope = {
        "event_id": event_id or uuid.uuid4(),
        "event_type": event_type.name,
        "version": event_type.version,
        "occurred_at": occurred_at or dt.datetime.now(dt.UTC),
        "producer": event_type.producer,
        "correlation_id": correlation_id,
        "data": data,
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
    data = raw["data"]
    if not isinstance(data, dict):
        raise PoisonMessage("data is not a JSON object")
    absent = [name for name in event_type.fields if name not in data]
    if absent:
        raise PoisonMessage(f"{event_type}: data misses fields {absent}")
    correlation_id = raw["correlation_id"]
    return Event(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        producer=str(raw["producer"]),
        correlation_id=None if correlation_id is None else str(correlation_id),
        data=data,
        attempt=attempt,
    )
