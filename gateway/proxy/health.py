"""``GET /health``: the gateway's own liveness plus every upstream's ``/health/ready``.

The upstreams are asked in parallel, each with a short timeout, so one hung service
costs at most ``GATEWAY["HEALTH_TIMEOUT"]`` and never the sum of them. ``/health`` is public
and never rate limited (proxy.ratelimit), so one answer serves every request of the next
:data:`STATUSES_REUSED_SECONDS`, and requests that come while it is being asked wait for it:
a flood of ``/health`` costs the upstreams at most one readiness check each per second and
worker, not one per request (each runs its database and broker probes). A DRF view like
the services' own health views, so its 405, ``OPTIONS`` and rendering are theirs too.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import Timeout

from common.exceptions import error_body
from common.request_id import HEADER as REQUEST_ID_HEADER

from .proxy import upstream_for


def upstream_status(base_url: str, request_id: str) -> str:
    """Return "ok" or "down: <reason>" for one upstream's readiness."""
    timeout = settings.GATEWAY["HEALTH_TIMEOUT"]
    try:
        response = upstream_for(base_url).request(
            "GET",
            "/health/ready",
            body=None,
            headers={REQUEST_ID_HEADER: request_id},
            timeout=Timeout(connect=min(timeout, settings.GATEWAY["CONNECT_TIMEOUT"]), read=timeout),
        )
    except urllib3_exceptions.NewConnectionError:  # refused (a ConnectTimeoutError subclass: first)
        return "down: unreachable"
    except (urllib3_exceptions.ConnectTimeoutError, urllib3_exceptions.ReadTimeoutError):
        return "down: timeout"
    except urllib3_exceptions.HTTPError:
        return "down: unreachable"
    return "ok" if response.status == 200 else f"down: HTTP {response.status}"


def upstream_statuses(request_id: str) -> dict[str, str]:
    upstreams = settings.GATEWAY["UPSTREAMS"]
    with ThreadPoolExecutor(max_workers=len(upstreams), thread_name_prefix="health") as pool:
        futures = {name: pool.submit(upstream_status, url, request_id) for name, url in upstreams.items()}
        return {name: future.result() for name, future in futures.items()}


# How long one round of readiness checks answers /health (a probe sees statuses at most this old).
STATUSES_REUSED_SECONDS = 1.0
_recent: tuple[float, dict[str, str]] | None = None  # (asked at, statuses)
# Held while the upstreams are asked: the requests meanwhile wait and take that answer.
_recent_lock = threading.Lock()
clock = time.monotonic


def recent_upstream_statuses(request_id: str) -> dict[str, str]:
    """Return the upstreams' statuses asked within the last second, asking them if none were."""
    global _recent
    with _recent_lock:
        if _recent is None or clock() - _recent[0] >= STATUSES_REUSED_SECONDS:
            statuses = upstream_statuses(request_id)
            _recent = (clock(), statuses)  # from when the answers came: a hung upstream takes seconds
        return _recent[1]


def clear_recent() -> None:
    """Forget the last statuses (tests: the next /health asks every upstream)."""
    global _recent
    with _recent_lock:
        _recent = None


class HealthView(APIView):
    """Public, whatever ``Authorization`` header comes with it (a load balancer's probe sends none)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        statuses = recent_upstream_statuses(request.request_id)
        if all(status == "ok" for status in statuses.values()):
            return Response({"service": settings.SERVICE_NAME, "status": "ok", "upstreams": statuses})
        details = [{"field": name, "message": status} for name, status in statuses.items()]
        return Response(error_body(503, "upstream_unavailable", "Not every service is ready.", details), status=503)
