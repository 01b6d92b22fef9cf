"""The gateway's views: the catch-all proxy, the merged schema and the offline docs."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import AllowAny

from common.authentication import unauthorized_message
from common.docs import RedocView, SwaggerView
from common.exceptions import UpstreamUnavailable, error_response
from common.views import read_only_view

from . import ratelimit, routes
from .credential import credential
from .proxy import forward
from .schema import merged_schema
from .tokens import verified_claims

SCHEMA_URL = "/api/schema/"


def _error(status: int, error_type: str, message: str, **headers: str) -> HttpResponse:
    return error_response(status, message, error_type=error_type, headers=headers)


def _has_dot_segment(path: str) -> bool:
    # "/api/customers/../../admin" would reach a path no route allows once normalised.
    return any(segment in (".", "..") for segment in path.split("/"))


@csrf_exempt
def proxy_view(request: HttpRequest) -> HttpResponse:
    """Authenticate (unless the route is public), then forward the request to its upstream once."""
    match = None if _has_dot_segment(request.path_info) else routes.resolve(request.path_info)
    if match is None:
        return _error(404, "not_found", "Not found.")
    route, upstream_path = match
    request.upstream_service = route.service  # the metrics' label (proxy.metrics)
    authorization = request.headers.get("Authorization")
    # A public route's caller may be signed in too: it is limited as that user.
    try:
        claims = verified_claims(authorization)
    except UpstreamUnavailable as exc:  # withdrawn access not fetched yet (common.withdrawals)
        return _error(503, "upstream_unavailable", str(exc.detail))
    if refusal := ratelimit.refused(request, claims):
        return refusal
    if not route.public and claims is None:
        # The same answer a service gives to the same header (common.authentication).
        message = unauthorized_message(authorization)
        return _error(401, "unauthorized", message, **{"WWW-Authenticate": 'Bearer realm="erp"'})
    if claims:
        request.token_user_id = claims.get("user_id")  # named in the access log (common.access_log)
    base_url = settings.GATEWAY["UPSTREAMS"][route.service]
    # Only auth_svc keys anything on the client's address (throttles, lockouts).
    proof = credential.get() if route.service == "auth" else None
    return forward(
        request, service=route.service, base_url=base_url, path=escape_uri_path(upstream_path), credential=proof
    )


@read_only_view
def schema_view(request: HttpRequest) -> HttpResponse:
    """Answer the OpenAPI document merged from every reachable service (public)."""
    return JsonResponse(
        merged_schema(request_id=request.request_id),
        content_type="application/vnd.oai.openapi+json",
        json_dumps_params={"ensure_ascii": False},
    )


# Public pages whatever Authorization header a browser sends; assets come from the sidecar.
swagger_view = SwaggerView.as_view(url=SCHEMA_URL, authentication_classes=[], permission_classes=[AllowAny])
redoc_view = RedocView.as_view(
    url=SCHEMA_URL, authentication_classes=[], permission_classes=[AllowAny], template_name="common/redoc.html"
)
