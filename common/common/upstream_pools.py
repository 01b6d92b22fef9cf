"""urllib3 connection pools whose kept-alive connections retire before the upstream closes them.

One home for the gateway's pools (``proxy.proxy.Upstream``) and the services' own calls
(``common.http``): both keep connections to gunicorn servers alive between requests, and both
send a request at most once.
"""

from __future__ import annotations

import time

import urllib3
import urllib3.connection
from urllib3.util import parse_url


class RetiredWhenIdle:
    """A connection mixin: a kept-alive connection idle past ``idle_seconds`` counts as dropped.

    The upstream's server closes a connection that idles past its keep-alive (gunicorn's
    ``keepalive``, 5 s). urllib3 notices a connection already closed, but not one the server
    closes while the request is on its way: that request fails (a 502 at the gateway, a 503 from
    a service's call), and a request is never retried. So a connection says it is no longer
    connected (``is_connected``, the property urllib3's pool asks before it reuses one) well
    before the upstream closes it; the pool then closes it and the request goes out on a fresh
    one. The idle time counts from the last answer's head, a little before the connection went
    back to the pool: it errs early. ``idle_seconds`` reaches the connection as one of the
    pool's ``conn_kw``.
    """

    def __init__(self, *args, idle_seconds: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.idle_seconds = idle_seconds
        self.answered_at: float | None = None

    def getresponse(self, *args, **kwargs):
        response = super().getresponse(*args, **kwargs)
        self.answered_at = time.monotonic()
        return response

    @property
    def is_connected(self) -> bool:
        if self.answered_at is not None and time.monotonic() - self.answered_at > self.idle_seconds:
            return False
        return super().is_connected


class _HTTPConnection(RetiredWhenIdle, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(RetiredWhenIdle, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def connection_pool(base_url: str, *, maxsize: int, idle_seconds: float) -> urllib3.HTTPConnectionPool:
    """Return a pool of ``base_url``'s host that never retries and retires connections idle past ``idle_seconds``.

    ``block=False``: a burst above ``maxsize`` opens extra connections rather than queueing
    (``maxsize`` is how many stay kept alive).
    """
    url = parse_url(base_url)
    pool_class = _HTTPSPool if url.scheme == "https" else _HTTPPool
    return pool_class(url.host, url.port, maxsize=maxsize, block=False, retries=False, idle_seconds=idle_seconds)
