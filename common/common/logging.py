"""Logging helpers: every record carries the request id it was written under."""

from __future__ import annotations

import logging

from .request_id import get_request_id


class RequestIDFilter(logging.Filter):
    """Add ``request_id`` to every record (None outside a request); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or get_request_id()
        return True
