"""Service-to-service HTTP client.

One urllib3 connection pool per upstream, timeouts on every call, the request id
passed on, and a service token fetched from auth_svc (``/service-token``) and
cached until shortly before it expires. Failures become the envelope's exceptions:
unreachable -> :class:`UpstreamUnavailable` (503), slow -> :class:`UpstreamTimeout`
(504), a 5xx or unreadable answer -> :class:`BadGateway` (502). A 404 answer is
returned as None by :meth:`ServiceClient.get_json` so callers can turn it into their
own validation error.

urllib3 itself, not a ``requests`` session on top of it: a service call needs none of what a
session adds (merging its settings into each request, hooks, a cookie jar read on every answer,
the environment's proxies), and that cost as much CPU again as the call through the pool
(docs/performance.md). Nothing here follows a redirect, keeps a cookie or reads a proxy.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ProtocolError, ReadTimeoutError, SSLError

from .exceptions import BadGateway, ServiceError, UpstreamTimeout, UpstreamUnavailable
from .request_id import HEADER, get_request_id
from .upstream_pools import connection_pool

logger = logging.getLogger("common.http")

# Refresh a cached service token this many seconds before it expires.
TOKEN_MARGIN_SECONDS = 30
# Connections kept per upstream: one per thread of a web server (8 in the local run) and then some.
POOL_SIZE = 20


@dataclass(frozen=True)
class ServiceResponse:
    """An upstream's answer, read whole; ``url`` is where it came from, without the query (what the logs name)."""

    status_code: int
    url: str
    content: bytes

    def json(self, **options: Any) -> Any:
        """The body read as JSON; ``options`` go to ``json.loads`` (``parse_float=Decimal`` for exact prices)."""
        return json.loads(self.content, **options)


_pools: dict[str, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(base_url: str) -> urllib3.HTTPConnectionPool:
    """Return the process-wide connection pool of ``base_url``'s host (one pool per upstream).

    Never retries: retrying is the caller's decision, and a POST must never be sent twice behind
    its back. So a kept-alive connection retires after ``ERP["HTTP_IDLE_SECONDS"]`` idle, before
    the upstream's server closes it under a call (``common.upstream_pools``).
    """
    origin = _origin(base_url)
    with _pools_lock:
        pool = _pools.get(origin)
        if pool is None:
            idle_seconds = settings.ERP["HTTP_IDLE_SECONDS"]
            pool = _pools[origin] = connection_pool(origin, maxsize=POOL_SIZE, idle_seconds=idle_seconds)
        return pool


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def close_pool(base_url: str) -> None:
    """Close the idle connections to ``base_url`` and forget its pool (the next call makes a new one)."""
    with _pools_lock:
        pool = _pools.pop(_origin(base_url), None)
    if pool is not None:
        pool.close()


def _unavailable(error_class: type[ServiceError], url: str, what: str, exc: Exception | None = None) -> ServiceError:
    """Log where the call failed (operators need it) and return an error that does not say (clients must not)."""
    logger.warning("service call to %s failed: %s (%r)", url, what, exc)
    return error_class()


def _call(
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float],
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    params: Mapping[str, Any] | None = None,
) -> ServiceResponse:
    """Send one request with the current request id; map transport failures to exceptions.

    ``json_body`` is sent encoded; ``params`` make the query string (a None value is left out);
    ``timeout`` bounds the connect and each read, or is ``(connect, read)``.
    """
    if isinstance(timeout, tuple):
        timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
    headers = dict(headers or {})
    request_id = get_request_id()
    if request_id:
        headers[HEADER] = request_id
    body = None
    if json_body is not None:
        body = json.dumps(json_body, allow_nan=False).encode()
        headers["Content-Type"] = "application/json"
    parts = urlsplit(url)
    query = "&".join(filter(None, (parts.query, _query(params or {}))))
    target = (parts.path or "/") + (f"?{query}" if query else "")
    # The logs name the path, never the query: it may hold what a person typed (a search).
    where = f"{parts.scheme}://{parts.netloc}{parts.path}"
    try:
        answer = pool_for(url).urlopen(
            method, target, body=body, headers=headers, timeout=timeout, redirect=False, preload_content=False
        )
    except ConnectTimeoutError as exc:
        # Refused, unresolvable or not accepted in time (urllib3's NewConnectionError is one too).
        raise _unavailable(UpstreamUnavailable, where, "no connection", exc) from exc
    except ReadTimeoutError as exc:
        raise _unavailable(UpstreamTimeout, where, "no answer in time", exc) from exc
    except (ProtocolError, SSLError) as exc:  # the connection broke, or its TLS did, before an answer
        raise _unavailable(UpstreamUnavailable, where, "unreachable", exc) from exc
    except HTTPError as exc:  # an answer's head that cannot be read
        raise _unavailable(BadGateway, where, "unreadable answer", exc) from exc
    try:
        content = answer.read()
    except ReadTimeoutError as exc:
        raise _unavailable(UpstreamTimeout, where, "no whole answer in time", exc) from exc
    except HTTPError as exc:  # it answered, then its body broke off or could not be decoded
        raise _unavailable(BadGateway, where, "unreadable answer", exc) from exc
    finally:
        answer.release_conn()
    return ServiceResponse(status_code=answer.status, url=where, content=content)


def _query(params: Mapping[str, Any]) -> str:
    """``params`` as a query string; a None value, alone or in a list, is left out (as ``requests`` did)."""
    kept = {}
    for name, value in params.items():
        if isinstance(value, list | tuple):
            value = [item for item in value if item is not None]
        if value is not None:
            kept[name] = value
    return urlencode(kept, doseq=True)


def _envelope_data(response: ServiceResponse) -> Any:
    """Return ``data`` of a success envelope, or raise BadGateway if the body is not one."""
    try:
        return response.json()["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _unavailable(BadGateway, response.url, f"{response.status_code} without a JSON envelope", exc) from exc


class ServiceTokenCache:
    """Fetch and cache this service's token from auth_svc (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def get(self) -> str:
        """Return a token valid for at least ``TOKEN_MARGIN_SECONDS``, fetching one if needed."""
        with self._lock:
            if self._token and time.monotonic() < self._expires_at - TOKEN_MARGIN_SECONDS:
                return self._token
            erp = settings.ERP
            if not erp.get("SERVICE_SECRET"):
                raise _unavailable(UpstreamUnavailable, erp["AUTH_SERVICE_URL"], "SERVICE_SECRET is not configured")
            response = _call(
                "POST",
                f"{erp['AUTH_SERVICE_URL'].rstrip('/')}/service-token",
                json_body={"service_name": settings.SERVICE_NAME, "service_secret": erp["SERVICE_SECRET"]},
                timeout=erp["HTTP_TIMEOUT"],
            )
            if response.status_code != 200:
                raise BadGateway(f"auth_svc refused the service token ({response.status_code}).")
            data = _envelope_data(response)
            try:
                token, lifetime = data["access_token"], int(data["expires_in"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BadGateway("auth_svc answered the service token without access_token/expires_in.") from exc
            self._token, self._expires_at = token, time.monotonic() + lifetime
            return token

    def invalidate(self) -> None:
        """Forget the cached token (it was refused); the next :meth:`get` fetches a new one."""
        with self._lock:
            self._token = None


_token_cache = ServiceTokenCache()


class ServiceClient:
    """Call another service's API as this service, with its service token."""

    def __init__(self, base_url: str, *, timeout: float | None = None, token_cache: ServiceTokenCache | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.tokens = token_cache or _token_cache

    @property
    def pool(self) -> urllib3.HTTPConnectionPool:
        """The connections of this client's upstream, shared by every client of it in the process."""
        return pool_for(self.base_url)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> ServiceResponse:
        """Send ``json`` (a body) or ``params`` (a query); retry a 401 once with a new token; a 5xx is a 502."""
        timeout = timeout or self.timeout or settings.ERP["HTTP_TIMEOUT"]
        for attempt in (1, 2):
            call_headers = {**(headers or {}), "Authorization": f"Bearer {self.tokens.get()}"}
            response = _call(
                method, f"{self.base_url}{path}", timeout=timeout, headers=call_headers, json_body=json, params=params
            )
            # A token revoked or expired early (auth_svc restarted with a new key): fetch a new one once.
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate()
                continue
            break
        if response.status_code >= 500:
            raise _unavailable(BadGateway, response.url, f"answered {response.status_code}")
        return response

    def get_json(self, path: str, **kwargs) -> Any | None:
        """Return the ``data`` of a GET, or None on 404; any other non-200 is a BadGateway."""
        response = self.request("GET", path, **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _unavailable(BadGateway, response.url, f"answered {response.status_code}")
        return _envelope_data(response)
