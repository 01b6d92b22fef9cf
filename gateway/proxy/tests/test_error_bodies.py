"""The gateway's own error answers are a service's answers to the same situation, byte for byte.

What a service answers is taken from the services' own machinery, not written out here: a
throwaway DRF view with common's settings (authentication, exception handler, envelope
renderer) for what a service's API refuses, and common.http's client for what a service
answers when a service it calls fails.
"""

import pytest
from django.test import Client, RequestFactory
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from common.authentication import JWTAuthentication
from common.exceptions import NotFound, PayloadTooLarge, ServiceError
from common.http import ServiceClient
from erp_testkit.service_checks import STATIC_ASSET

from .conftest import closed_port_url


def _service_answer(method: str = "GET", *, raises: Exception | None = None, authenticated: bool = False, **meta):
    """Return (status, body bytes, headers) of a service's DRF view that raises ``raises`` or wants a token."""

    class ServiceView(APIView):
        authentication_classes = [JWTAuthentication] if authenticated else []
        permission_classes = [IsAuthenticated] if authenticated else [AllowAny]

        def get(self, request):
            raise raises

    response = ServiceView.as_view()(RequestFactory().generic(method, "/anything", **meta))
    response.render()
    return response.status_code, response.content, response


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer not-a-jwt"],
    ids=["missing", "other-scheme", "empty-bearer", "garbage"],
)
def test_401_is_the_services_answer_to_the_same_header(upstreams, authorization):
    # given
    meta = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    status, body, service = _service_answer(authenticated=True, **meta)

    # when
    response = Client().get("/api/customers", **meta)

    # then
    assert (response.status_code, response.content) == (status, body) == (401, body)
    assert response["Content-Type"] == service["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == service["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/api/unknown", "/api/auth/service-token", "/elsewhere", "/api/items/../x"])
def test_404_is_the_services_not_found(upstreams, bearer, path):
    # given
    status, body, _ = _service_answer(raises=NotFound())

    # when
    response = Client().post(path, data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=bearer)

    # then
    assert (response.status_code, response.content) == (status, body)
    assert body == b'{"status":404,"error":{"type":"not_found","message":"Not found.","details":null}}'


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/health/live",
        "/api/schema/",
        "/api/docs/",
        "/api/redoc/",
        "/api/redoc/redoc.standalone.js",
        STATIC_ASSET,
    ],
)
def test_405_on_the_gateways_own_pages_is_the_services_method_not_allowed(upstreams, path):
    # given: a service's view that only answers GET, asked with POST
    status, body, _ = _service_answer("POST")

    # when
    response = Client().post(path, data=b"{}", content_type="application/json")

    # then
    assert (response.status_code, response.content) == (status, body) == (405, body)
    assert response["Content-Type"] == "application/json"
    assert "GET" in response["Allow"]
    assert all(not fake.received for fake in upstreams.values())


def test_413_is_the_services_payload_too_large(upstreams, bearer, settings):
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    status, body, _ = _service_answer(raises=PayloadTooLarge())

    # when
    response = Client().post(
        "/api/customers", data=b'{"name": "' + b"x" * 2048 + b'"}', content_type="application/json"
    )

    # then
    assert (response.status_code, response.content) == (status, body) == (413, body)
    assert all(not fake.received for fake in upstreams.values())


class _FixedToken:
    """A service token cache that never calls auth_svc."""

    def get(self) -> str:
        return "service-token"

    def invalidate(self) -> None:
        pass


def _service_error_calling(url: str, path: str) -> ServiceError:
    """Return what common.http raises when a service calls ``url + path`` (the gateway's timeouts)."""
    with pytest.raises(ServiceError) as raised:
        ServiceClient(url, timeout=(0.5, 0.5), token_cache=_FixedToken()).request("GET", path)
    return raised.value


@pytest.mark.parametrize(
    ("situation", "gateway_status"),
    [("refused", 502), ("not-accepting", 503), ("slow", 504), ("dropped", 502)],
)
def test_upstream_failure_has_the_message_a_service_gives_for_the_same_failure(
    upstreams, settings, bearer, unaccepting_url, situation, gateway_status
):
    # given: the sales upstream fails in this way, for the gateway and for a service calling it
    url, path = {
        "refused": (closed_port_url(), "/orders"),
        "not-accepting": (unaccepting_url, "/orders"),
        "slow": (upstreams["sales"].url, "/orders/slow"),
        "dropped": (upstreams["sales"].url, "/orders/1/drop"),
    }[situation]
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "sales": url}}
    service_error = _service_error_calling(url, path)

    # when
    response = Client().get("/api/sales" + path, HTTP_AUTHORIZATION=bearer)

    # then: the same type and message, rendered as a service renders it; the status is a proxy's
    class GatewayAnswer(ServiceError):
        status_code = gateway_status
        default_code = service_error.default_code

    status, body, _ = _service_answer(raises=GatewayAnswer(str(service_error.detail)))
    assert (response.status_code, response.content) == (status, body) == (gateway_status, body)
    assert response.json()["error"]["type"] == ("upstream_timeout" if situation == "slow" else "upstream_unavailable")
    # and, like a service's, only the 503 of an upstream down says when to try again
    assert response.get("Retry-After") == ("5" if gateway_status == 503 else None)
