"""Service-to-service HTTP client.

One pooled ``requests.Session`` per base URL, timeouts on every call, the request
id passed on, and a service token fetched from auth_svc (``/service-token``) and
cached until shortly before it expires. Failures become the envelope's exceptions:
unreachable -> :class:`UpstreamUnavailable` (503), slow -> :class:`UpstreamTimeout`
(504), a 5xx or unreadable answer -> :class:`BadGateway` (502). A 404 answer is
returned as None by :meth:`ServiceClient.get_json` so callers can turn it into their
own validation error.
"""

from __future__ import annotations

import logging
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from .exceptions import BadGateway, ServiceError, UpstreamTimeout, UpstreamUnavailable
from .request_id import HEADER, get_request_id

logger = logging.getLogger("common.http")

# Refresh a cached service token this many seconds before it expires.
TOKEN_MARGIN_SECONDS = 30


class _NoCookies(DefaultCookiePolicy):
    """Refuse every cookie: a shared session must not carry one caller's cookie to the next."""

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


def pooled_session(pool_size: int = 20) -> requests.Session:
    """Return a ``requests.Session`` with a connection pool, no retries, no cookies and no environment.

    ``trust_env`` off: otherwise every call reads the proxy variables (and ``NO_PROXY``, and the
    ``.netrc`` file) from the environment again, a tenth of a service call's CPU; a service
    reaches the others at the URLs its settings name, never through a proxy of the environment.
    """
    session = requests.Session()
    session.trust_env = False
    # Retrying is the caller's decision: a POST must never be sent twice behind its back.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies.set_policy(_NoCookies())
    return session


_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(base_url: str) -> requests.Session:
    """Return the process-wide pooled session for ``base_url`` (one pool per upstream)."""
    with _sessions_lock:
        if base_url not in _sessions:
            _sessions[base_url] = pooled_session()
        return _sessions[base_url]


def _unavailable(error_class: type[ServiceError], url: str, what: str, exc: Exception | None = None) -> ServiceError:
    """Log where the call failed (operators need it) and return an error that does not say (clients must not)."""
    logger.warning("service call to %s failed: %s (%r)", url, what, exc)
    return error_class()


def _call(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    """Send one request with the current request id; map transport failures to exceptions."""
    headers = dict(kwargs.pop("headers", None) or {})
    request_id = get_request_id()
    if request_id:
        headers[HEADER] = request_id
    kwargs.setdefault("allow_redirects", False)
    try:
        return session.request(method, url, headers=headers, **kwargs)
    except requests.ConnectTimeout as exc:
        # Checked before Timeout (it is both): no connection at all means unreachable.
        raise _unavailable(UpstreamUnavailable, url, "no connection in time", exc) from exc
    except requests.Timeout as exc:
        raise _unavailable(UpstreamTimeout, url, "no answer in time", exc) from exc
    except requests.ConnectionError as exc:
        raise _unavailable(UpstreamUnavailable, url, "unreachable", exc) from exc
    except requests.RequestException as exc:  # broken chunking, bad encoding...
        raise _unavailable(BadGateway, url, "unreadable answer", exc) from exc


def _envelope_data(response: requests.Response) -> Any:
    """Return ``data`` of a success envelope, or raise BadGateway if the body is not one."""
    try:
        return response.json()["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _unavailable(BadGateway, response.url, f"{response.status_code} without a JSON envelope", exc) from exc


class ServiceTokenCache:
    """Fetch and cache this service's token from auth_svc (thread-safe)."""

    def __init__(self, session: requests.Session | None = None):
        self._session = session or pooled_session(4)
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
                self._session,
                "POST",
                f"{erp['AUTH_SERVICE_URL'].rstrip('/')}/service-token",
                json={"service_name": settings.SERVICE_NAME, "service_secret": erp["SERVICE_SECRET"]},
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
        # Shared per base URL, so a client made per request still reuses connections.
        self.session = session_for(self.base_url)
        self.tokens = token_cache or _token_cache

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request; retry once with a fresh token on 401; raise BadGateway on 5xx."""
        kwargs.setdefault("timeout", self.timeout or settings.ERP["HTTP_TIMEOUT"])
        extra_headers = kwargs.pop("headers", None) or {}
        for attempt in (1, 2):
            headers = {**extra_headers, "Authorization": f"Bearer {self.tokens.get()}"}
            response = _call(self.session, method, f"{self.base_url}{path}", headers=headers, **kwargs)
            # A token revoked or expired early (auth_svc restarted with a new key): fetch a new one once.
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate()
                continue
            break
        if response.status_code >= 500:
            raise _unavailable(BadGateway, f"{self.base_url}{path}", f"answered {response.status_code}")
        return response

    def get_json(self, path: str, **kwargs) -> Any | None:
        """Return the ``data`` of a GET, or None on 404; any other non-200 is a BadGateway."""
        response = self.request("GET", path, **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _unavailable(BadGateway, f"{self.base_url}{path}", f"answered {response.status_code}")
        return _envelope_data(response)
