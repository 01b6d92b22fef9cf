"""The current request id, readable anywhere in the process (logs, outgoing calls, events)."""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Accept a caller's id only if it is short and harmless to log and forward.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def get_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _current.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _current.reset(token)


def accept_or_new(value: str | None) -> str:
    return value if value and _VALID.match(value) else str(uuid.uuid4())
