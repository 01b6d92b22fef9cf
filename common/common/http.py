"""Service-to-service HTTP client.

One pooled ``requests.Session`` per base URL, timeouts on every call, the request
id passed on, and a service token fetched from auth_svc (``/service-token``) and
cached until shortly before it expires. Failures become the envelope's exceptions:
unreachable -> :class:`UpstreamUnavailable` (503), slow -> :class:`UpstreamTimeout`
(504), a 5xx answer -> :class:`BadGateway` (502). A 404 answer is returned as None
by :meth:`ServiceClient.get_json` so callers can turn it into their own validation error.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from .exceptions import BadGateway, UpstreamTimeout, UpstreamUnavailable
from .request_id import HEADER, get_request_id

# Refresh a cached service token this many seconds before it expires.
TOKEN_MARGIN_SECONDS = 30


def pooled_session(pool_size: int = 20) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Never keep cookies between calls: the session is shared by every request.
    session.cookies.set_policy(_NoCookies())
    return session


class _NoCookies(requests.cookies.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


class ServiceTokenCache:
    """Fetch and cache this service's token from auth_svc (thread-safe)."""

    def __init__(self, session: requests.Session | None = None):
        self._session = session or pooled_session(4)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token and time.monotonic() < self._expires_at - TOKEN_MARGIN_SECONDS:
                return self._token
            erp = settings.ERP
            if not erp.get("SERVICE_SECRET"):
                raise UpstreamUnavailable("SERVICE_SECRET is not configured; cannot call other services.")
            body = _call(
                self._session,
                "POST",
                f"{erp['AUTH_SERVICE_URL'].rstrip('/')}/service-token",
                json={"service_name": settings.SERVICE_NAME, "service_secret": erp["SERVICE_SECRET"]},
                timeout=erp["HTTP_TIMEOUT"],
            )
            if body.status_code != 200:
                raise BadGateway(f"auth_svc refused the service token ({body.status_code}).")
            data = body.json()["data"]
            self._token = data["access_token"]
            self._expires_at = time.monotonic() + int(data["expires_in"])
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


_token_cache = ServiceTokenCache()


def _call(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {}) or {}
    request_id = get_request_id()
    if request_id:
        headers[HEADER] = request_id
    try:
        return session.request(method, url, headers=headers, **kwargs)
    except requests.Timeout as exc:
        raise UpstreamTimeout(f"{url} did not answer in time.") from exc
    except requests.ConnectionError as exc:
        raise UpstreamUnavailable(f"{url} is unreachable.") from exc


class ServiceClient:
    """Call another service's API as this service (service token) or on behalf of a user."""

    def __init__(self, base_url: str, *, timeout: float | None = None, token_cache: ServiceTokenCache | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = pooled_session()
        self.tokens = token_cache or _token_cache

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        timeout = self.timeout or settings.ERP["HTTP_TIMEOUT"]
        extra_headers = kwargs.pop("headers", {}) or {}
        for attempt in (1, 2):
            headers = {**extra_headers, "Authorization": f"Bearer {self.tokens.get()}"}
            response = _call(self.session, method, f"{self.base_url}{path}", headers=headers, timeout=timeout, **kwargs)
            # A token revoked or expired early: fetch a new one once.
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate()
                continue
            break
        if response.status_code >= 500:
            raise BadGateway(f"{self.base_url} answered {response.status_code}.")
        return response

    def get_json(self, path: str, **kwargs) -> Any | None:
        response = self.request("GET", path, **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise BadGateway(f"{self.base_url}{path} answered {response.status_code}.")
        return response.json()["data"]
