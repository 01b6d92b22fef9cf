"""The gateway as the published edge: what it refuses, strips, adds, and never serves (issue 7)."""

import io
import json

import jwt
import pytest
from django.test import Client

from common.authentication import TOKEN_INVALID_MESSAGE, TOKEN_MISSING_MESSAGE
from common.exceptions import error_body
from common.forwarding import PROXY_TOKEN_HEADER
from common.wsgi import dechunked
from erp_testkit import issue_token

from .conftest import closed_port_url

CLIENT_PROOF = {f"HTTP_{PROXY_TOKEN_HEADER.upper().replace('-', '_')}": "forged-by-the-client"}


def _received(fake):
    assert len(fake.received) == 1, fake.received
    return fake.received[0]


# ---------------------------------------------------------------- /metrics


@pytest.mark.parametrize("method", ["get", "post"])
def test_metrics_are_not_served_at_the_edge(upstreams, method):
    # when
    response = getattr(Client(), method)("/metrics")

    # then
    assert response.status_code == 404
    assert response.json() == error_body(404, "not_found", "Not found.")
    assert all(not fake.received for fake in upstreams.values())


# ---------------------------------------------------------------- one answer to a bad token


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, TOKEN_MISSING_MESSAGE),
        ("Basic YWRtaW46YWRtaW4=", TOKEN_MISSING_MESSAGE),
        ("Bearer", TOKEN_INVALID_MESSAGE),
        ("Bearer not-a-jwt", TOKEN_INVALID_MESSAGE),
    ],
)
def test_bad_token_answer_is_common_s(upstreams, authorization, message):
    # when
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/api/customers", **headers)

    # then: word for word what a service answers (common.authentication, common/tests)
    assert response.status_code == 401
    assert response.json() == error_body(401, "unauthorized", message)


@pytest.mark.parametrize(
    "claims",
    [{"exp": "9999999999"}, {"exp": 10**20}, {"exp": 1.5e9}, {"exp": True}, {"iat": "0"}, {"user_id": 7}],
    ids=["exp-string", "exp-beyond-dates", "exp-float", "exp-bool", "iat-string", "user_id-int"],
)
def test_token_with_claims_of_the_wrong_type_is_401(upstreams, claims):
    # when
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {issue_token(role='admin', **claims)}")

    # then
    assert response.status_code == 401
    assert response.json() == error_body(401, "unauthorized", TOKEN_INVALID_MESSAGE)
    assert all(not fake.received for fake in upstreams.values())


# ---------------------------------------------------------------- the gateway's proof to auth_svc


def test_gateway_sends_its_own_service_token_to_auth_and_drops_the_clients(upstreams, gateway_credential):
    # when
    response = Client().post(
        "/api/auth/login",
        b'{"email": "a@b.c"}',
        content_type="application/json",
        REMOTE_ADDR="192.0.2.7",
        **CLIENT_PROOF,
    )

    # then: first the token request with the gateway's secret, then the login with the token
    assert response.status_code == 200
    token_request, login = upstreams["auth"].received
    assert (token_request.target, json.loads(token_request.body)) == (
        "/service-token",
        {"service_name": "gateway", "service_secret": "gateway-secret"},
    )
    proof = login.header(PROXY_TOKEN_HEADER)
    claims = jwt.decode(proof, options={"verify_signature": False})
    assert (claims["type"], claims["user_id"]) == ("service", "gateway")
    assert login.header("X-Forwarded-For") == "192.0.2.7"


def test_gateway_token_is_fetched_once_and_reused(upstreams, gateway_credential):
    # when
    for _ in range(3):
        Client().post("/api/auth/login", b"{}", content_type="application/json")

    # then
    targets = [received.target for received in upstreams["auth"].received]
    assert targets == ["/service-token", "/login", "/login", "/login"]


def test_clients_proof_never_reaches_any_upstream(upstreams, bearer):
    # when
    Client().get("/api/customers", HTTP_AUTHORIZATION=bearer, **CLIENT_PROOF)
    Client().post("/api/auth/login", b"{}", content_type="application/json", **CLIENT_PROOF)

    # then: no secret configured here, so no proof at all, and never the client's
    assert _received(upstreams["contact"]).header(PROXY_TOKEN_HEADER) is None
    assert _received(upstreams["auth"]).header(PROXY_TOKEN_HEADER) is None


def test_other_upstreams_never_get_the_gateways_token(upstreams, gateway_credential, bearer):
    # when
    Client().get("/api/customers", HTTP_AUTHORIZATION=bearer)

    # then
    assert _received(upstreams["contact"]).header(PROXY_TOKEN_HEADER) is None
    assert upstreams["auth"].received == []


def test_without_auth_issuing_a_token_requests_go_on_without_one(upstreams, gateway_credential, settings):
    # given: auth_svc's token endpoint unreachable
    settings.ERP = {**settings.ERP, "AUTH_SERVICE_URL": closed_port_url(), "HTTP_TIMEOUT": 0.5}

    # when
    first = Client().post("/api/auth/login", b"{}", content_type="application/json")
    second = Client().post("/api/auth/login", b"{}", content_type="application/json")

    # then: auth_svc counts them against the gateway's own address (stricter, never looser)
    assert first.status_code == second.status_code == 200
    assert [received.header(PROXY_TOKEN_HEADER) for received in upstreams["auth"].received] == [None, None]
    assert gateway_credential.get() is None  # within the retry pause: not asked again


# ---------------------------------------------------------------- bodies


def test_body_over_the_limit_is_413_and_not_forwarded(upstreams, settings):
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    # when
    response = Client().post("/api/auth/login", b"x" * 101, content_type="application/json")

    # then
    assert response.status_code == 413
    assert response.json() == error_body(
        413, "payload_too_large", "The request body is larger than this service accepts."
    )
    assert upstreams["auth"].received == []


def test_an_import_takes_16_mib_and_its_own_time(upstreams, bearer, settings):
    # given: the upstream takes 1 s, more than other requests may wait but less than an import may
    settings.GATEWAY = {**settings.GATEWAY, "IMPORT_TIMEOUT": 3.0}
    upstreams["inventory"].slow_seconds = 1.0
    body = b"sku,name\r\n" + b"AB-1,Cable\r\n" * 200_000  # 2.4 MB

    # when
    response = Client().post("/api/items/import", body, content_type="text/csv", HTTP_AUTHORIZATION=bearer)

    # then
    assert response.status_code == 200, response.content
    received = _received(upstreams["inventory"])
    assert (received.target, received.body) == ("/items/import", body)


def test_an_import_over_16_mib_is_413_and_not_forwarded(upstreams, bearer):
    # when
    response = Client().post(
        "/api/items/import", b"x" * (16 * 1024 * 1024 + 1), content_type="text/csv", HTTP_AUTHORIZATION=bearer
    )

    # then
    assert response.status_code == 413
    assert upstreams["inventory"].received == []


def test_chunked_body_is_forwarded_whole_with_a_length(upstreams):
    # given: what gunicorn hands over for a chunked request (no Content-Length, the de-chunked
    # bytes), read by the gateway's WSGI entry point (common.wsgi) before Django sees it
    body = b'{"email": "a@example.com", "password": "secret-password"}'
    chunked = dechunked({"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)})

    # when
    response = Client().generic("POST", "/api/auth/login", body, content_type="application/json", **chunked)

    # then
    assert response.status_code == 200
    received = _received(upstreams["auth"])
    assert received.body == body
    assert received.header("Content-Length") == str(len(body))
    assert received.header("Transfer-Encoding") is None
