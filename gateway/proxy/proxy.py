"""Forward one Django request to an upstream and turn its answer (or failure) into a Django response.

One keep-alive ``urllib3.HTTPConnectionPool`` per upstream base URL, made once per process
and used directly (no ``requests``: its session, adapter and response layers cost more CPU
per request than the whole rest of the proxy path). The pools never retry and never follow
a redirect (a POST is sent once, whatever happens), keep no cookies and add no headers of
their own: the upstream receives the client's headers, minus hop-by-hop ones, plus
X-Forwarded-* and X-Request-ID. Bodies go both ways as raw bytes: the upstream's answer is
read whole and not decoded, so ``Content-Encoding`` and ``Content-Length`` stay true; one sent
without a length (chunked: the CSV exports) is relayed as it comes, so the gateway's memory
does not grow with it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import urllib3
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import SKIP_HEADER, Timeout, parse_url

from common.exceptions import BadGateway, UpstreamTimeout, UpstreamUnavailable, service_error_response
from common.forwarding import PROXY_TOKEN_HEADER, last_forwarded
from common.request_id import HEADER as REQUEST_ID_HEADER
from common.upstream_pools import connection_pool

from . import metrics

# RFC 9110 §7.6.1 connection-specific fields, plus what the gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# X-Forwarded-For and X-Request-ID are re-set by the gateway (one line each, whatever their case);
# X-Gateway-Token is the gateway's own proof (proxy.credential): a client's copy is never passed on.
_NOT_FORWARDED = HOP_BY_HOP | {
    PROXY_TOKEN_HEADER.lower(),
    "host",
    "content-length",
    "expect",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    # Set by the gateway for an admin's mount point only (proxy.back_office): never a client's.
    "x-forwarded-prefix",
    REQUEST_ID_HEADER.lower(),
}
# The gateway's own server (gunicorn) sets these; the upstream's would be sent twice.
_NOT_RELAYED = HOP_BY_HOP | {"server", "date"}


class Upstream:
    """One upstream: its connection pool and the path its base URL starts with (usually "")."""

    __slots__ = ("base_path", "pool")

    def __init__(self, base_url: str, pool_size: int, idle_seconds: float):
        self.base_path = (parse_url(base_url).path or "").rstrip("/")
        # Kept-alive connections: one per gunicorn thread is enough. Never a retry: the client decides.
        self.pool = connection_pool(base_url, maxsize=pool_size, idle_seconds=idle_seconds)

    def request(self, method: str, target: str, *, body: bytes | None, headers: dict[str, str], timeout: Timeout):
        """Send once and return the answer, its body read whole (the connection goes back to the pool).

        Except an answer without a length (``Transfer-Encoding: chunked``: a streamed export),
        whose body is left to be relayed as it comes (:func:`relay`).
        """
        upstream = self.pool.urlopen(
            method,
            self.base_path + target,
            body=body,
            headers=headers,
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=timeout,
            preload_content=False,
            decode_content=False,
        )
        if not _is_streamed(upstream):
            upstream.read(cache_content=True)  # whole, under the same timeout (then released); .data keeps it
        return upstream


def _is_streamed(upstream: urllib3.BaseHTTPResponse) -> bool:
    return upstream.headers.get("Content-Length") is None and upstream.chunked


_upstreams: dict[str, Upstream] = {}
_upstreams_lock = threading.Lock()


def upstream_for(base_url: str) -> Upstream:
    """Return the process-wide pooled upstream for a base URL."""
    upstream = _upstreams.get(base_url)
    if upstream is None:
        with _upstreams_lock:
            upstream = _upstreams.get(base_url)
            if upstream is None:
                upstream = _upstreams[base_url] = Upstream(
                    base_url, settings.GATEWAY["POOL_SIZE"], settings.GATEWAY["UPSTREAM_IDLE_SECONDS"]
                )
    return upstream


def _connection_tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


def _proxy_vouched(forwarded_for: str | None) -> str | None:
    """Return the client address a trusted TLS proxy appended to ``X-Forwarded-For``, if it is trusted and did."""
    if settings.GATEWAY["BEHIND_TLS_PROXY"] and forwarded_for:
        return last_forwarded(forwarded_for)
    return None


def client_address(request: HttpRequest) -> str:
    """Return the client's address as the gateway trusts it: the peer, or its TLS proxy's last entry."""
    meta = request.META
    return _proxy_vouched(meta.get("HTTP_X_FORWARDED_FOR")) or meta.get("REMOTE_ADDR", "")


def upstream_headers(
    request: HttpRequest, *, credential: str | None = None, extra: dict[str, str | None] | None = None
) -> dict[str, str]:
    """Return the client's headers minus hop-by-hop ones, plus X-Forwarded-*, X-Request-ID and the credential.

    ``extra`` sets headers of the gateway's own last (a None value removes that header).
    """
    meta = request.META
    connection = meta.get("HTTP_CONNECTION")
    dropped = _NOT_FORWARDED | _connection_tokens(connection) if connection else _NOT_FORWARDED
    # An empty value carries nothing (WSGI hands over an empty Cookie when there is none).
    headers = {name: value for name, value in request.headers.items() if value and name.lower() not in dropped}
    prior = meta.get("HTTP_X_FORWARDED_FOR")
    if _proxy_vouched(prior):
        # The peer is the proxy in front, which appended the client it saw: that entry stays
        # last, the one auth_svc's throttles believe (common.forwarding), not the proxy's address.
        headers["X-Forwarded-For"] = prior
    else:
        client = meta.get("REMOTE_ADDR", "")
        headers["X-Forwarded-For"] = f"{prior}, {client}" if prior else client
    if host := meta.get("HTTP_HOST"):
        headers["X-Forwarded-Host"] = host
    headers["X-Forwarded-Proto"] = request.scheme
    headers[REQUEST_ID_HEADER] = request.request_id
    if credential:
        headers[PROXY_TOKEN_HEADER] = credential
    headers.setdefault("User-Agent", SKIP_HEADER)  # no python-urllib3 agent of our own
    for name, value in (extra or {}).items():
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]
        if value is not None:
            headers[name] = value
    return headers


class ProxiedResponse(HttpResponse):
    """An HttpResponse that also sends the upstream's raw, repeated headers (Set-Cookie) verbatim.

    Django keeps one value per header name and re-serialises cookies; the WSGI handler
    takes ``items()``, so the upstream's lines are appended there untouched.
    """

    def __init__(self, *args, raw_headers: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_headers = list(raw_headers)

    def items(self):
        return [*super().items(), *self.raw_headers]


# The messages a service gives when a service it calls fails the same way (common.http), with a
# proxy's statuses: a refused or dropped connection is a bad gateway (502), a connection not
# accepted in time 503, an answer not given in time 504 (contract §4).
UPSTREAM_UNREACHABLE = BadGateway(UpstreamUnavailable.default_detail)
UPSTREAM_NOT_ACCEPTING = UpstreamUnavailable()
UPSTREAM_SLOW = UpstreamTimeout()


def forward(
    request: HttpRequest,
    *,
    service: str,
    base_url: str,
    path: str,
    credential: str | None = None,
    extra_headers: dict[str, str | None] | None = None,
) -> HttpResponse:
    """Send the request to ``service``'s ``base_url + path`` once (never retried) and relay the answer.

    ``credential`` (the gateway's service token) goes in ``X-Gateway-Token``, for an upstream
    that must believe the ``X-Forwarded-For`` the gateway sets (auth_svc's throttles);
    ``extra_headers`` as in :func:`upstream_headers`.
    """
    query = request.META.get("QUERY_STRING", "")
    # The target as the client sent it: no re-quoting of the query, no dot-segment removal.
    target = f"{path}?{query}" if query else path
    gateway = settings.GATEWAY
    waits = gateway["IMPORT_TIMEOUT"] if re.search(settings.IMPORT_BODY_PATHS, path) else gateway["UPSTREAM_TIMEOUT"]
    try:
        upstream = upstream_for(base_url).request(
            request.method,
            target,
            body=request.body or None,
            headers=upstream_headers(request, credential=credential, extra=extra_headers),
            timeout=Timeout(connect=gateway["CONNECT_TIMEOUT"], read=waits),
        )
    except urllib3_exceptions.NewConnectionError:
        # Refused (a subclass of ConnectTimeoutError in urllib3 2, so checked first).
        return _failed(service, "unreachable", UPSTREAM_UNREACHABLE)
    except urllib3_exceptions.ConnectTimeoutError:
        return _failed(service, "connect_timeout", UPSTREAM_NOT_ACCEPTING)
    except urllib3_exceptions.ReadTimeoutError:
        return _failed(service, "read_timeout", UPSTREAM_SLOW)
    except urllib3_exceptions.HTTPError:
        # Reset, or the connection dropped mid-answer: the request may have run, so no retry.
        return _failed(service, "unreachable", UPSTREAM_UNREACHABLE)
    return relay(upstream)


def _failed(service: str, kind: str, error) -> HttpResponse:
    metrics.UPSTREAM_ERRORS.labels(service, kind).inc()
    return service_error_response(error)


class ProxiedStream(StreamingHttpResponse):
    """A streamed upstream answer (a CSV export) relayed chunk by chunk: the gateway's memory stays flat.

    Sends the upstream's repeated headers verbatim, as :class:`ProxiedResponse` does.
    """

    def __init__(self, upstream: urllib3.BaseHTTPResponse, **kwargs):
        super().__init__(_chunks(upstream), **kwargs)
        self.raw_headers: list[tuple[str, str]] = []

    def items(self):
        return [*super().items(), *self.raw_headers]


def _chunks(upstream: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """Yield the upstream's body as it comes; closed early (the client went away), close its connection.

    Django closes the generator when the response is closed. Read to the end, urllib3 has put the
    connection back in the pool already and ``close`` leaves it there; cut short, the half-read
    connection is closed, never reused.
    """
    try:
        yield from upstream.stream(STREAM_CHUNK_BYTES, decode_content=False)
    finally:
        upstream.close()


STREAM_CHUNK_BYTES = 64 * 1024


def relay(upstream: urllib3.BaseHTTPResponse) -> HttpResponse:
    """Build the client's response: upstream status, body untouched, headers minus hop-by-hop."""
    raw_headers = upstream.headers
    connection = raw_headers.get("Connection")
    dropped = _NOT_RELAYED | _connection_tokens(connection) if connection else _NOT_RELAYED
    if _is_streamed(upstream):
        response = ProxiedStream(upstream, status=upstream.status)
    else:
        response = ProxiedResponse(upstream.data, status=upstream.status)
    del response["Content-Type"]  # Django's default; the upstream's own (if any) follows
    for name in raw_headers:
        lowered = name.lower()
        if lowered in dropped:
            continue
        values = raw_headers.getlist(name)
        if lowered == "set-cookie":
            response.raw_headers += [(name, value) for value in values]
        else:
            response[name] = ", ".join(values)
    return response
