"""The platform's front page at ``/``: where a person or a program finds the API docs, the back office and health.

A browser (whose ``Accept`` prefers HTML, as ``*/*`` does) gets a small page; a client that
prefers ``application/json`` gets the same links as a JSON index in the contract's envelope.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from common.exceptions import error_response

from . import ratelimit

PLATFORM_NAME = "ERP order platform"
# (key of the JSON index, path, what a person finds there)
LINKS = (
    ("api_docs", "/api/docs/", "API documentation (Swagger UI)"),
    ("api_redoc", "/api/redoc/", "API documentation (ReDoc)"),
    ("api_schema", "/api/schema/", "OpenAPI document"),
    ("back_office", "/admin/", "Back office (staff sign-in)"),
    ("health", "/health", "Health of every service"),
)
HTML, JSON = "text/html", "application/json"


def front_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_response(405, f'Method "{request.method}" not allowed.', error_type="method_not_allowed")
    if refusal := ratelimit.refused(request, None):
        return refusal
    if request.get_preferred_type([HTML, JSON]) == JSON:
        index = {"name": PLATFORM_NAME, "links": {key: path for key, path, _ in LINKS}}
        response = JsonResponse({"status": 200, "message": "OK", "data": index})
    else:
        links = [{"url": path, "title": title} for _, path, title in LINKS]
        response = render(request, "proxy/front.html", {"name": PLATFORM_NAME, "links": links})
    response["Vary"] = "Accept"
    return response
