"""``/metrics`` in the Prometheus text format: answered requests, the broker, the outbox backlog and the queue.

Under gunicorn every worker is a process of its own, so a counter kept in one
worker's memory shows only the requests that worker answered. With
``PROMETHEUS_MULTIPROC_DIR`` set (``scripts/gunicorn.conf.py`` sets it before the
app is loaded), prometheus_client's multiprocess mode keeps each worker's values in
a file there and a scrape sums them, whichever worker answers it.

The dependency gauges are computed at scrape time by the process that answers, from
the same functions as the readiness body: ``erp_broker_up`` (1 or 0),
``erp_outbox_pending`` and ``erp_outbox_oldest_pending_age_seconds`` (services with
events only; 0 when nothing is pending; absent while the database is away); for a
consuming service on RabbitMQ, its queue and DLQ as the broker probe counted them
(``erp_events_queue_messages``, ``erp_events_queue_consumers``,
``erp_events_dead_letters``, ``erp_events_oldest_waiting_age_seconds``);
the gauges of the collectors a service names in ``ERP["METRICS_COLLECTORS"]`` (sales: its
orders waiting for inventory too long; purchase: receipts inventory refused); and
the integrity checks' last results (``erp_integrity_check_*``, common.jobs.metrics).
docs/operations.md lists them with alert rules.
"""

from __future__ import annotations

import os

from django.apps import apps
from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string
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
            yield from queue_gauges()


def queue_gauges():
    """The consuming service's queue and dead letters, as its last broker probe counted them (docs/operations.md)."""
    from .events import conf
    from .events.health import oldest_waiting_age
    from .events.topology import Topology
    from .health import queue_report

    queues = queue_report()
    if not queues:  # no consumer here, the broker away or not RabbitMQ: no figures is honest
        return
    topology = Topology()
    name, dlq = topology.queue_name(conf.consumer_name()), topology.dlq_name(conf.consumer_name())
    messages = GaugeMetricFamily("erp_events_queue_messages", "events waiting in the queue (ready)", labels=["queue"])
    consumers = GaugeMetricFamily("erp_events_queue_consumers", "consumers reading the queue", labels=["queue"])
    for queue, counts in queues.items():
        messages.add_metric([queue], float(counts["messages"]))
        consumers.add_metric([queue], float(counts["consumers"]))
    yield messages
    yield consumers
    if dlq in queues:
        dead = GaugeMetricFamily("erp_events_dead_letters", "messages in the dead-letter queue", labels=["queue"])
        dead.add_metric([dlq], float(queues[dlq]["messages"]))
        yield dead
    if name in queues:
        try:
            age = oldest_waiting_age(queues[name]["messages"])
        except Exception:  # the database is away: readiness says so
            age = None
        if age is not None:
            oldest = GaugeMetricFamily(
                "erp_events_oldest_waiting_age_seconds",
                "age of the oldest event waiting in the queue, since it occurred (0: none waiting)",
                labels=["queue"],
            )
            oldest.add_metric([name], round(age, 3))
            yield oldest


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
    for path in settings.ERP.get("METRICS_COLLECTORS", []):
        dependencies.register(import_string(path)())
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
