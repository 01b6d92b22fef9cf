"""Forward one Django request to an upstream and turn its answer (or failure) into a Django response.

One pooled keep-alive ``requests.Session`` per upstream base URL, made once per process
(``common.http.pooled_session``: no retries, no cookie jar, so nothing of one user's
leaks to another). The session's default headers and environment lookups (proxies,
netrc) are switched off: the upstream receives the client's headers and nothing else.
Bodies go both ways as raw bytes: the upstream's answer is not decoded, so
``Content-Encoding`` and ``Content-Length`` stay true.
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import SKIP_HEADER

from common.exceptions import error_body
from common.http import pooled_session
from common.request_id import HEADER as REQUEST_ID_HEADER

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
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect", "x-forwarded-host", "x-forwarded-proto"}

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(base_url: str) -> requests.Session:
    """Return the process-wide pooled session for one upstream."""
    session = _sessions.get(base_url)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(base_url)
            if session is None:
                session = pooled_session(settings.GATEWAY["POOL_SIZE"])
                session.headers.clear()
                session.trust_env = False
                _sessions[base_url] = session
    return session


def _connection_tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


def upstream_headers(request: HttpRequest) -> dict[str, str]:
    """Return the client's headers minus hop-by-hop ones, plus X-Forwarded-* and X-Request-ID."""
    dropped = _NOT_FORWARDED | _connection_tokens(request.headers.get("Connection"))
    headers = {name: value for name, value in request.headers.items() if name.lower() not in dropped}
    client = request.META.get("REMOTE_ADDR", "")
    prior = headers.pop("X-Forwarded-For", "")
    headers["X-Forwarded-For"] = f"{prior}, {client}" if prior else client
    if host := request.META.get("HTTP_HOST"):
        headers["X-Forwarded-Host"] = host
    headers["X-Forwarded-Proto"] = request.scheme
    headers[REQUEST_ID_HEADER] = request.request_id
    headers.setdefault("User-Agent", SKIP_HEADER)  # no python-urllib3 agent of our own
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


def _gateway_error(status: int, error_type: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, error_type, message), status=status)


def forward(request: HttpRequest, *, base_url: str, path: str) -> HttpResponse:
    """Send the request to ``base_url + path`` once (never retried) and relay the answer."""
    query = request.META.get("QUERY_STRING", "")
    prepared = requests.PreparedRequest()
    prepared.prepare_method(request.method)
    prepared.prepare_headers(upstream_headers(request))
    prepared.prepare_body(request.body or None, None)
    # Set the URL last and by hand: requests would re-quote the query and drop dot segments.
    prepared.url = f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
    gateway = settings.GATEWAY
    try:
        upstream = session_for(base_url).send(
            prepared,
            timeout=(gateway["CONNECT_TIMEOUT"], gateway["UPSTREAM_TIMEOUT"]),
            allow_redirects=False,
            stream=True,
        )
        # Read the raw bytes whole; reaching the end hands the connection back to the pool.
        body = upstream.raw.read(decode_content=False)
    except requests.ConnectTimeout:
        return _gateway_error(503, "upstream_unavailable", "The service did not accept a connection in time.")
    except (requests.Timeout, urllib3_exceptions.ReadTimeoutError):
        return _gateway_error(504, "upstream_timeout", "The service did not answer in time.")
    except (requests.RequestException, urllib3_exceptions.HTTPError):
        # Refused, reset, or the connection dropped mid-answer: the request may have run, so no retry.
        return _gateway_error(502, "upstream_unavailable", "The service is unreachable.")
    return relay(upstream, body)


def relay(upstream: requests.Response, body: bytes) -> HttpResponse:
    """Build the client's response: upstream status, body untouched, headers minus hop-by-hop."""
    raw_headers = upstream.raw.headers
    dropped = HOP_BY_HOP | _connection_tokens(raw_headers.get("Connection"))
    response = ProxiedResponse(body, status=upstream.status_code)
    del response["Content-Type"]  # Django's default; the upstream's own (if any) follows
    for name in raw_headers:
        lowered, values = name.lower(), raw_headers.getlist(name)
        if lowered in dropped:
            continue
        if lowered == "set-cookie":
            response.raw_headers += [(name, value) for value in values]
        else:
            response[name] = ", ".join(values)
    return response
