"""The gateway's own metrics: requests by upstream service, latency, upstream failures, limits, the token cache.

They are served on a listener of their own, never on the published port (contract §1):
``ERP_METRICS_BIND`` makes the gunicorn master answer ``/metrics`` there
(``scripts/gunicorn.conf.py``, :func:`common.metrics.serve_metrics`). Each worker writes its
values to ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them, as the services' ``/metrics``
do, whichever worker class runs (gevent's greenlets share their worker's files).

The ``service`` label is the upstream a request was routed to (``contact``, ``auth``, ...) or
``gateway`` for what the gateway answers itself (health, docs, the back-office index, 404s,
refusals before routing). Label values are bounded: a method outside the usual ones is
``other``, a status is its class (``2xx`` ... ``5xx``).
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

from common.metrics import KNOWN_METHODS

GATEWAY = "gateway"  # the service label of what the gateway answers itself

REQUESTS = Counter(
    "erp_gateway_requests_total", "requests answered, by upstream service", ["service", "method", "status"]
)
LATENCY = Histogram(
    "erp_gateway_request_duration_seconds",
    "time from the request's arrival in Django to its answer, by upstream service",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UPSTREAM_ERRORS = Counter(
    "erp_gateway_upstream_errors_total",
    "upstreams that failed to answer: refused or dropped (unreachable), connect_timeout, read_timeout",
    ["service", "kind"],
)
IN_FLIGHT = Gauge("erp_gateway_requests_in_flight", "requests being answered", multiprocess_mode="livesum")
RATE_LIMITED = Counter("erp_gateway_rate_limited_total", "requests refused with 429, by bucket", ["client"])
TOKEN_CACHE = Counter("erp_gateway_token_cache_total", "access tokens looked up in the cache", ["result"])


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class GatewayMetricsMiddleware:
    """Count and time every request by the service it went to (``request.upstream_service``, set by the views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            response = self.get_response(request)
        finally:
            IN_FLIGHT.dec()
        service = getattr(request, "upstream_service", GATEWAY)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(service, method, status_class(response.status_code)).inc()
        LATENCY.labels(service).observe(time.perf_counter() - started)
        return response
