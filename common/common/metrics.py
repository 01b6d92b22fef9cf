"""``/metrics`` in the Prometheus text format: process metrics and answered requests."""

from __future__ import annotations

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

REQUESTS = Counter("erp_http_requests_total", "HTTP requests answered", ["method", "status"])
# Label values come from the client: bound them, or random methods would grow the series without end.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metrics_view(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Count answered requests by method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(method, str(response.status_code)).inc()
        return response
