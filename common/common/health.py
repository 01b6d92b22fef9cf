"""``/health/live`` and ``/health/ready``.

Live says the process answers. Ready runs the checks named in
``settings.ERP["READINESS_CHECKS"]`` (database and broker by default; the event
relay adds its own) and answers 503 naming the failing ones.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import error_body


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


_broker_ok_until = 0.0


def check_broker() -> None:
    """Connect to the broker; a success is cached for a few seconds to spare it."""
    global _broker_ok_until
    if time.monotonic() < _broker_ok_until:
        return
    from kombu import Connection

    with Connection(
        settings.BROKER_URL, transport_options=settings.BROKER_TRANSPORT_OPTIONS, connect_timeout=2
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    _broker_ok_until = time.monotonic() + 5


def run_checks() -> dict[str, str]:
    results = {}
    for path in settings.ERP.get("READINESS_CHECKS", []):
        name = path.rsplit(".", 1)[-1].removeprefix("check_")
        try:
            import_string(path)()
        except Exception as exc:  # a failing dependency is reported, never raised
            results[name] = f"down: {type(exc).__name__}"
        else:
            results[name] = "ok"
    return results


_HEALTH_SCHEMA = extend_schema(responses={200: OpenApiTypes.OBJECT}, auth=[{}], tags=["health"])


class LiveView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @_HEALTH_SCHEMA
    def get(self, request):
        return Response({"service": settings.SERVICE_NAME, "status": "ok"})


class ReadyView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @_HEALTH_SCHEMA
    def get(self, request):
        checks = run_checks()
        if all(value == "ok" for value in checks.values()):
            return Response({"service": settings.SERVICE_NAME, "status": "ok", "checks": checks})
        body = error_body(
            503,
            "upstream_unavailable",
            "Not ready.",
            [{"field": k, "message": v} for k, v in checks.items() if v != "ok"],
        )
        return Response(body, status=503)
