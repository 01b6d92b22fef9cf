"""Connections to the broker named by ``settings.BROKER_URL``, every wait bounded in time.

A broker link can go half-open: a load balancer or proxy in front of RabbitMQ that
accepts bytes and never answers. Without bounds, any call that waits for a reply
(a declare, a confirm, the close handshake) waits forever. So on amqp:

- ``connect_timeout`` bounds the TCP connect and the AMQP handshake;
- ``read_timeout``/``write_timeout`` (``SO_RCVTIMEO``/``SO_SNDTIMEO``) bound every
  socket read and write, hence every synchronous method (declare, consume, cancel);
- heartbeats (``HEARTBEAT``) let an idle consumer notice a dead link on its own;
- :func:`close` never blocks: after an error it drops the socket (``collect()``,
  no handshake with a broker that does not answer), otherwise it closes cleanly with
  every wait capped at ``CLOSE_TIMEOUT``.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

from . import conf

# Message files written whole (filesystem.py says why); kombu's registry of transports by scheme.
TRANSPORT_ALIASES["filesystem"] = "common.events.filesystem:Transport"

CLOSE_TIMEOUT = 1.0


def connection(*, url: str | None = None, heartbeat: float | None = None, confirm: bool = True) -> Connection:
    """Return a (lazy) kombu connection; on amqp, with publisher confirms and socket timeouts."""
    url = url or settings.BROKER_URL
    options = dict(getattr(settings, "BROKER_TRANSPORT_OPTIONS", {}) or {})
    timeout = float(conf.get("BROKER_TIMEOUT"))
    if url.startswith(("amqp", "pyamqp")):
        options.setdefault("read_timeout", timeout)
        options.setdefault("write_timeout", timeout)
        if confirm:
            options["confirm_publish"] = True
    return Connection(url, transport_options=options, heartbeat=heartbeat or 0, connect_timeout=timeout)


def close(conn: Connection | None, *, broken: bool) -> None:
    """Close ``conn`` without ever blocking for long; ``broken`` after an error on it."""
    if conn is None:
        return
    if not broken:
        sock = _socket(conn)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(CLOSE_TIMEOUT)
        try:
            conn.release()
        except Exception:  # the close handshake failed or timed out: drop the socket instead
            broken = True
    if broken:
        with contextlib.suppress(Exception):
            conn.collect()


def _socket(conn: Connection):
    transport = getattr(conn._connection, "transport", None)  # py-amqp's transport, once connected
    return getattr(transport, "sock", None)
