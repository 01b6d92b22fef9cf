"""``/health/live`` and ``/health/ready`` (contract §1).

Live says the process answers. Ready runs the checks named in
``settings.ERP["READINESS_CHECKS"]`` (the database and the withdrawn access,
common.withdrawals, by default) and answers 503 naming the failing ones: a web process
is ready when it can serve its API. The broker is not one of them: while it is away
the outbox takes the writes, and every web process going unready at once would turn a
broker outage into a full one. Its
reachability and the outbox backlog are *reported* in the body (``dependencies``)
and in ``/metrics``, where an alert can watch them.
"""

from __future__ import annotations

import threading
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

# The probe's own bound (connect, handshake, close); it runs beside the request, never in it.
BROKER_TIMEOUT = 2.0
BROKER_CACHE_SECONDS = 5.0
# Seconds a readiness request (or a scrape) waits for a probe in flight before it answers with
# the last result: a small fraction of what its callers give the whole answer, the gateway's
# GATEWAY_HEALTH_TIMEOUT (2 s) and the Kubernetes probes' timeoutSeconds (3 s), so a half-open
# broker link cannot turn a ready service into a timed-out one (docs/operations.md).
BROKER_PROBE_BUDGET = 0.5


class NotReady(Exception):
    """A readiness check's own verdict: its message is the reason ``/health/ready`` names.

    Any other exception a check raises is reported by its type only, since its message may
    hold a host or a DSN.
    """


def uses_database() -> bool:
    """False for a service without a database (the gateway: Django fills in its dummy backend)."""
    engine = settings.DATABASES.get("default", {}).get("ENGINE")
    return engine not in (None, "", "django.db.backends.dummy")


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


_broker_cache: tuple[float, str] = (0.0, "")
_queue_cache: dict[str, dict[str, int]] = {}
_probe_lock = threading.Lock()
_probe: threading.Thread | None = None


def broker_status() -> str:
    """Return ``"ok"`` or ``"down: <error type>"``, waiting at most ``BROKER_PROBE_BUDGET`` for it.

    The result is cached a few seconds, both ways, to spare the broker. Once it expires,
    one probe (per process) runs in a thread of its own, bounded by ``BROKER_TIMEOUT``;
    a caller that finds it still running after the budget reports the last result, at
    most ``BROKER_CACHE_SECONDS + BROKER_TIMEOUT`` old (``"down: timeout"`` if there is
    none yet), and leaves the probe to finish and fill the cache for the next one.
    """
    global _probe
    valid_until, status = _broker_cache
    if time.monotonic() < valid_until:
        return status
    with _probe_lock:
        if _probe is None or not _probe.is_alive():
            _probe = threading.Thread(target=_probe_broker, name="broker-probe", daemon=True)
            _probe.start()
        probe = _probe
    probe.join(BROKER_PROBE_BUDGET)
    return _broker_cache[1] or "down: timeout"


def _probe_broker() -> None:
    """Connect to the broker once (bounded by ``BROKER_TIMEOUT``) and cache what came of it."""
    global _broker_cache, _queue_cache
    from kombu import Connection

    from .events import broker, conf
    from .events.health import queue_counts

    conn = Connection(
        settings.BROKER_URL,
        transport_options={
            **settings.BROKER_TRANSPORT_OPTIONS,
            **({"read_timeout": BROKER_TIMEOUT, "write_timeout": BROKER_TIMEOUT} if _is_amqp() else {}),
        },
        connect_timeout=BROKER_TIMEOUT,
    )
    queues: dict[str, dict[str, int]] = {}
    try:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        if _is_amqp() and apps.is_installed("common.events") and conf.consumes():
            queues = queue_counts(conn)
    except Exception as exc:  # any failure is the broker being unreachable, reported by type
        status = f"down: {type(exc).__name__}"
        broker.close(conn, broken=True)
    else:
        status = "ok"
        broker.close(conn, broken=False)
    _queue_cache = queues
    _broker_cache = (time.monotonic() + BROKER_CACHE_SECONDS, status)


def queue_report() -> dict[str, dict[str, int]]:
    """This service's queue and DLQ as the last broker probe counted them (``{}``: none, or no broker).

    Never waits: :func:`broker_status`, called first by every reader, starts a probe when due.
    """
    return _queue_cache


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
        except NotReady as exc:
            results[name] = f"down: {exc}"
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
