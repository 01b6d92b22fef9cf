"""``/metrics`` in the Prometheus text format: answered requests, the broker and the outbox backlog.

Under gunicorn every worker is a process of its own, so a counter kept in one
worker's memory shows only the requests that worker answered. With
``PROMETHEUS_MULTIPROC_DIR`` set (``scripts/gunicorn.conf.py`` sets it before the
app is loaded), prometheus_client's multiprocess mode keeps each worker's values in
a file there and a scrape sums them, whichever worker answers it.

The dependency gauges are computed at scrape time by the process that answers, from
the same functions as the readiness body: ``erp_broker_up`` (1 or 0),
``erp_outbox_pending`` and ``erp_outbox_oldest_pending_age_seconds`` (services with
events only; 0 when nothing is pending; absent while the database is away), and the
integrity checks' last results (``erp_integrity_check_*``, common.jobs.metrics).
"""

from __future__ import annotations

import os

from django.apps import apps
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from .views import read_only_view

REQUESTS = Counter("erp_http_requests_total", "HTTP requests answered", ["method", "status"])
# Label values come from the client: bound them, or random methods would grow the series without end.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class DependencyCollector:
    """Gauges of the broker's reachability and the outbox backlog, read when scraped."""

    def collect(self):
        from .health import broker_status, uses_database

        if not uses_database():  # the gateway: no broker, no outbox
            return
        up = GaugeMetricFamily("erp_broker_up", "1 if the broker accepted a connection (cached a few seconds)")
        up.add_metric([], 1.0 if broker_status() == "ok" else 0.0)
        yield up
        if apps.is_installed("common.events"):
            from .events.health import outbox_backlog

            try:
                backlog = outbox_backlog()
            except Exception:  # the database is away: readiness says so; no figures is honest
                return
            pending = GaugeMetricFamily("erp_outbox_pending", "events written to the outbox and not yet published")
            pending.add_metric([], float(backlog["pending"]))
            yield pending
            age = GaugeMetricFamily(
                "erp_outbox_oldest_pending_age_seconds", "age of the oldest unpublished event (0: none pending)"
            )
            age.add_metric([], float(backlog["oldest_pending_age_seconds"] or 0.0))
            yield age


def process_registry():
    """The registry of the request counters: every worker's, summed, in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@read_only_view
def metrics_view(request):
    dependencies = CollectorRegistry(auto_describe=False)
    dependencies.register(DependencyCollector())
    if apps.is_installed("common.jobs"):
        from .jobs.metrics import IntegrityCollector

        dependencies.register(IntegrityCollector())
    body = generate_latest(process_registry()) + generate_latest(dependencies)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Count answered requests by method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(method, str(response.status_code)).inc()
        return response
