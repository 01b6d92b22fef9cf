"""The current request id, readable anywhere in the process (logs, outgoing calls, events)."""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Accept a caller's id only if it is short and harmless to log and forward (no spaces,
# no control characters that could split a log line or a header).
_VALID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")


def get_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _current.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _current.reset(token)


def is_valid(value: str | None) -> bool:
    # fullmatch, not match with ``$``: ``$`` also matches before a trailing newline.
    return bool(value) and _VALID.fullmatch(value) is not None


def accept_or_new(value: str | None) -> str:
    """Return the caller's id if it is acceptable, else a new UUID4."""
    return value if is_valid(value) else str(uuid.uuid4())
