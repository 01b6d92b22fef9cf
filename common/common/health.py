"""``/health/live`` and ``/health/ready`` (contract §1).

Live says the process answers. Ready runs the checks named in
``settings.ERP["READINESS_CHECKS"]`` (the database by default) and answers 503
naming the failing ones: a web process is ready when it can serve its API. The
broker is not one of them: while it is away the outbox takes the writes, and every
web process going unready at once would turn a broker outage into a full one. Its
reachability and the outbox backlog are *reported* in the body (``dependencies``)
and in ``/metrics``, where an alert can watch them.
"""

from __future__ import annotations

import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import error_body

BROKER_TIMEOUT = 2.0
BROKER_CACHE_SECONDS = 5.0


def uses_database() -> bool:
    """False for a service without a database (the gateway: Django fills in its dummy backend)."""
    engine = settings.DATABASES.get("default", {}).get("ENGINE")
    return engine not in (None, "", "django.db.backends.dummy")


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


_broker_cache: tuple[float, str] = (0.0, "")


def broker_status() -> str:
    """Return ``"ok"`` or ``"down: <error type>"``; cached a few seconds, both ways, to spare the broker.

    The connection attempt is bounded (connect, handshake and close) by
    ``BROKER_TIMEOUT``: a half-open broker link cannot hold a health request.
    """
    global _broker_cache
    valid_until, status = _broker_cache
    if time.monotonic() < valid_until:
        return status
    from kombu import Connection

    from .events import broker

    conn = Connection(
        settings.BROKER_URL,
        transport_options={
            **settings.BROKER_TRANSPORT_OPTIONS,
            **({"read_timeout": BROKER_TIMEOUT, "write_timeout": BROKER_TIMEOUT} if _is_amqp() else {}),
        },
        connect_timeout=BROKER_TIMEOUT,
    )
    try:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # any failure is the broker being unreachable, reported by type
        status = f"down: {type(exc).__name__}"
        broker.close(conn, broken=True)
    else:
        status = "ok"
        broker.close(conn, broken=False)
    _broker_cache = (time.monotonic() + BROKER_CACHE_SECONDS, status)
    return status


def _is_amqp() -> bool:
    return settings.BROKER_URL.startswith(("amqp", "pyamqp"))


def dependencies() -> dict[str, Any]:
    """What readiness reports without depending on it: the broker and, with events, the outbox."""
    report: dict[str, Any] = {"broker": broker_status()}
    if apps.is_installed("common.events"):
        from .events.health import outbox_backlog

        try:
            report["outbox"] = outbox_backlog()
        except Exception as exc:  # the database check reports the cause
            report["outbox"] = f"down: {type(exc).__name__}"
    return report


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
            body = {"service": settings.SERVICE_NAME, "status": "ok", "checks": checks}
            if uses_database():
                body["dependencies"] = dependencies()
            return Response(body)
        body = error_body(
            503,
            "upstream_unavailable",
            "Not ready.",
            [{"field": k, "message": v} for k, v in checks.items() if v != "ok"],
        )
        return Response(body, status=503)
