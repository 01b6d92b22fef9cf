"""Connections to the broker named by ``settings.BROKER_URL``."""

from __future__ import annotations

from django.conf import settings
from kombu import Connection


def connection(*, url: str | None = None, heartbeat: float | None = None, confirm: bool = True) -> Connection:
    """Return a (lazy) kombu connection; on amqp, with publisher confirms."""
    url = url or settings.BROKER_URL
    options = dict(getattr(settings, "BROKER_TRANSPORT_OPTIONS", {}) or {})
    if url.startswith(("amqp", "pyamqp")) and confirm:
        options["confirm_publish"] = True
    return Connection(url, transport_options=options, heartbeat=heartbeat or 0, connect_timeout=5)
