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
import select

from django.conf import settings
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

from . import conf

# Message files written whole (filesystem.py says why); kombu's registry of transports by scheme.
TRANSPORT_ALIASES["filesystem"] = "common.events.filesystem:Transport"

CLOSE_TIMEOUT = 1.0
# How long a drain after has_arrived() may wait for the rest of what began to arrive (a frame in pieces).
ARRIVED_WAIT = 0.01


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


def has_arrived(conn: Connection) -> bool:
    """Whether the amqp link has something to read now, without reading it or waiting.

    What a drain with a zero timeout cannot answer safely: py-amqp then makes the socket
    non-blocking and loops without end on a frame only partly arrived (and, were the link to
    go half-open there, for ever). Drain after a True with a short bound (``ARRIVED_WAIT``).
    Bytes a TLS link has decrypted already count. True without an amqp socket (another
    transport, or not connected): its own drain is the one to ask.
    """
    sock = _socket(conn)
    if sock is None:
        return True
    pending = getattr(sock, "pending", None)  # an ssl.SSLSocket's decrypted bytes
    if pending is not None and pending():
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _socket(conn: Connection):
    transport = getattr(conn._connection, "transport", None)  # py-amqp's transport, once connected
    return getattr(transport, "sock", None)
