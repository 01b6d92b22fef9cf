"""Forwarding: routing, authentication, byte-exact requests, headers both ways, failures, no retries."""

import threading

import pytest
from django.test import Client

from erp_testkit import issue_token

from .conftest import closed_port_url

ROUTED = [
    ("/api/auth/me", "auth", "/me"),
    ("/api/auth/users/42", "auth", "/users/42"),
    ("/api/customers/7", "contact", "/customers/7"),
    ("/api/vendors", "contact", "/vendors"),
    ("/api/items/7/stock", "inventory", "/items/7/stock"),
    ("/api/sales/orders/7/confirm", "sales", "/orders/7/confirm"),
    ("/api/purchase/orders", "purchase", "/orders"),
]


def _only_request(fakes):
    received = [(name, r) for name, fake in fakes.items() for r in fake.received]
    assert len(received) == 1, received
    return received[0]


@pytest.mark.parametrize(("gateway_path", "service", "upstream_path"), ROUTED)
def test_each_prefix_reaches_its_upstream_with_the_right_path(upstreams, bearer, gateway_path, service, upstream_path):
    # when
    response = Client().get(gateway_path, HTTP_AUTHORIZATION=bearer)

    # then
    assert response.status_code == 200
    assert response["X-Upstream"] == service
    name, received = _only_request(upstreams)
    assert (name, received.method, received.target) == (service, "GET", upstream_path)


def test_upstream_body_and_status_pass_through_untouched(upstreams, bearer):
    # when
    response = Client().get("/api/items/1", HTTP_AUTHORIZATION=bearer)

    # then
    assert response.content == (
        b'{"status": 200, "message": "OK", "data": {"service": "inventory", "method": "GET", "target": "/items/1"}}'
    )
    assert response["Content-Type"] == "application/json"


def test_query_string_and_body_are_forwarded_byte_exact(upstreams, bearer):
    # given
    body = b'{"name":  "Caf\xc3\xa9 \\u00e9",\n "email": "a@b.example"}'
    query = "search=caf%C3%A9+bar&ordering=-created_at&status=a&status=b&x=%2F%3F%26&empty="

    # when
    response = Client().post(
        f"/api/customers?{query}", data=body, content_type="application/json", HTTP_AUTHORIZATION=bearer
    )

    # then
    assert response.status_code == 200
    _, received = _only_request(upstreams)
    assert received.method == "POST"
    assert received.target == f"/customers?{query}"
    assert received.body == body
    assert received.header("Content-Type") == "application/json"
    assert received.header("Content-Length") == str(len(body))


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options", "head"])
def test_every_method_is_forwarded_as_is(upstreams, bearer, method):
    # when
    response = getattr(Client(), method)("/api/vendors/9", HTTP_AUTHORIZATION=bearer)

    # then
    assert response.status_code == 200
    _, received = _only_request(upstreams)
    assert (received.method, received.target) == (method.upper(), "/vendors/9")


def test_authorization_and_end_to_end_headers_are_forwarded(upstreams, bearer):
    # when
    Client().get("/api/items", HTTP_AUTHORIZATION=bearer, HTTP_ACCEPT_LANGUAGE="de", HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    _, received = _only_request(upstreams)
    assert received.header("Authorization") == bearer
    assert received.header("Accept-Language") == "de"
    assert received.header("Idempotency-Key") == "k-1"
    assert received.header("User-Agent") is None  # the gateway adds no agent of its own


def test_hop_by_hop_request_headers_are_not_forwarded(upstreams, bearer):
    # when
    Client().get(
        "/api/items",
        HTTP_AUTHORIZATION=bearer,
        HTTP_CONNECTION="keep-alive, X-Client-Hop",
        HTTP_X_CLIENT_HOP="secret",
        HTTP_KEEP_ALIVE="timeout=5",
        HTTP_PROXY_AUTHORIZATION="Basic Zm9vOmJhcg==",
        HTTP_PROXY_CONNECTION="keep-alive",
        HTTP_TE="trailers",
        HTTP_TRAILER="X-Checksum",
        HTTP_UPGRADE="websocket",
        HTTP_X_END_TO_END="kept",
    )

    # then
    _, received = _only_request(upstreams)
    names = {name.lower() for name, _ in received.headers}
    for hop in ("x-client-hop", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "upgrade"):
        assert hop not in names
    assert received.header("Connection") in (None, "keep-alive")  # the gateway's own connection, not the client's
    assert received.header("X-End-To-End") == "kept"
    assert received.header("Host") == upstreams["inventory"].url.removeprefix("http://")


def test_hop_by_hop_response_headers_are_not_returned(upstreams, bearer):
    # when
    response = Client().get("/api/items/hop", HTTP_AUTHORIZATION=bearer)

    # then
    assert response.status_code == 200
    hop_headers = ("Connection", "X-Secret-Hop", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade")
    for hop in (*hop_headers, "Server", "Date"):
        assert not response.has_header(hop), hop
    assert response["X-End-To-End"] == "kept"


def test_forwarded_headers_and_request_id_are_added(upstreams, bearer, settings):
    # given
    settings.ALLOWED_HOSTS = ["erp.example.test"]

    # when
    response = Client().get(
        "/api/items",
        HTTP_AUTHORIZATION=bearer,
        HTTP_X_REQUEST_ID="req-42",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_HOST="erp.example.test",
        REMOTE_ADDR="192.0.2.7",
        SERVER_NAME="erp.example.test",
    )

    # then
    _, received = _only_request(upstreams)
    assert received.header("X-Forwarded-For") == "203.0.113.9, 192.0.2.7"
    assert received.header("X-Forwarded-Host") == "erp.example.test"
    assert received.header("X-Forwarded-Proto") == "http"
    assert received.header("X-Request-ID") == "req-42"
    assert response["X-Request-ID"] == "req-42"


@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        # the Ingress appended the client it saw (after whatever the client claimed)
        ("198.51.100.4, 203.0.113.9", "198.51.100.4, 203.0.113.9"),
        # nothing from a proxy (a probe, a call from inside the cluster): the peer, as at the edge
        (None, "10.0.0.5"),
        ("not-an-address", "not-an-address, 10.0.0.5"),
    ],
)
def test_behind_a_tls_proxy_the_client_is_the_one_the_proxy_appended(
    upstreams, bearer, settings, forwarded_for, expected
):
    # given the gateway behind an Ingress (GATEWAY_BEHIND_TLS_PROXY=1), whose address is the peer's
    settings.GATEWAY = {**settings.GATEWAY, "BEHIND_TLS_PROXY": True}
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}

    # when
    Client().get("/api/items", HTTP_AUTHORIZATION=bearer, REMOTE_ADDR="10.0.0.5", **extra)

    # then the last entry, the one auth_svc's throttles key on, is the client's, not the Ingress's
    _, received = _only_request(upstreams)
    assert received.header("X-Forwarded-For") == expected


def test_request_id_is_made_when_absent_and_passed_upstream(upstreams, bearer):
    # when
    response = Client().get("/api/items", HTTP_AUTHORIZATION=bearer, REMOTE_ADDR="192.0.2.7")

    # then
    _, received = _only_request(upstreams)
    assert len(response["X-Request-ID"]) == 36
    assert received.header("X-Request-ID") == response["X-Request-ID"]
    assert received.header("X-Forwarded-For") == "192.0.2.7"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer " + "x" * 20,
    ],
)
def test_missing_or_invalid_token_is_401_and_no_upstream_is_called(upstreams, authorization):
    # given
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    # when
    response = Client().post("/api/sales/orders", data={}, content_type="application/json", **headers)

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert response["WWW-Authenticate"] == 'Bearer realm="erp"'
    assert all(not fake.received for fake in upstreams.values())


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: issue_token(role="admin", lifetime=-10),
        lambda: issue_token(role="admin", aud="someone-else"),
        lambda: issue_token(role="admin", iss="someone-else"),
        lambda: issue_token(role=None),
        lambda: issue_token(role="admin", algorithm="HS256", private_key="a-shared-secret-long-enough-for-hs256-use"),
        lambda: issue_token(role="admin", jwt_type="refresh"),
    ],
    ids=["expired", "other-audience", "other-issuer", "user-without-role", "hs256", "refresh-token"],
)
def test_expired_forged_or_wrong_kind_of_token_is_401(upstreams, make_token):
    # when
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {make_token()}")

    # then
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert all(not fake.received for fake in upstreams.values())


def test_service_token_passes_the_gateway_and_the_service_decides(upstreams):
    # when
    response = Client().get("/api/items", HTTP_AUTHORIZATION=f"Bearer {issue_token(token_type='service')}")

    # then
    assert response.status_code == 200
    assert len(upstreams["inventory"].received) == 1


@pytest.mark.parametrize("name", ["register", "login", "refresh", "forgot-password", "reset-password"])
def test_public_auth_routes_need_no_token(upstreams, name):
    # when
    response = Client().post(f"/api/auth/{name}", data=b'{"email": "a@b.c"}', content_type="application/json")

    # then
    assert response.status_code == 200
    _, received = _only_request(upstreams)
    assert (received.method, received.target, received.body) == ("POST", f"/{name}", b'{"email": "a@b.c"}')


def test_service_token_endpoint_is_not_routed(upstreams, bearer):
    # when
    response = Client().post(
        "/api/auth/service-token", data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=bearer
    )

    # then
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": {"type": "not_found", "message": "Not found.", "details": None}}
    assert all(not fake.received for fake in upstreams.values())


@pytest.mark.parametrize("path", ["/api/unknown", "/api/customers/../../admin/", "/api/items/./x", "/elsewhere"])
def test_unknown_or_dotted_path_is_an_enveloped_404(upstreams, bearer, path):
    # when
    response = Client().get(path, HTTP_AUTHORIZATION=bearer)

    # then
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
    assert all(not fake.received for fake in upstreams.values())


def test_unreachable_upstream_is_502(upstreams, settings, bearer):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "sales": closed_port_url()}}

    # when
    response = _bounded(lambda: Client().get("/api/sales/orders", HTTP_AUTHORIZATION=bearer))

    # then
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_unavailable"


def test_upstream_that_accepts_no_connection_is_503(upstreams, settings, bearer, unaccepting_url):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "sales": unaccepting_url}}

    # when
    response = _bounded(lambda: Client().get("/api/sales/orders", HTTP_AUTHORIZATION=bearer))

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"


def test_slow_upstream_is_504(upstreams, bearer):
    # given: the fake sleeps 3s, the gateway waits 2s
    upstreams["inventory"].slow_seconds = 3.0

    # when
    response = _bounded(lambda: Client().get("/api/items/slow", HTTP_AUTHORIZATION=bearer))

    # then
    assert response.status_code == 504
    assert response.json() == {
        "status": 504,
        "error": {
            "type": "upstream_timeout",
            "message": "A service this request needs did not answer in time.",
            "details": None,
        },
    }
    assert len(upstreams["inventory"].received) == 1


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_dropped_connection_is_502_and_never_retried(upstreams, bearer, method):
    # given: a warm pooled connection, so a stale-connection retry would be tempting
    Client().get("/api/sales/orders", HTTP_AUTHORIZATION=bearer)
    upstreams["sales"].received.clear()

    # when
    response = _bounded(
        lambda: Client().generic(
            method, "/api/sales/orders/1/drop", data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=bearer
        )
    )

    # then
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert [r.target for r in upstreams["sales"].received] == ["/orders/1/drop"]


def test_set_cookie_reaches_the_client_and_is_never_replayed_for_another(upstreams):
    # given: client A gets cookies from the upstream
    alice, bob = Client(), Client()
    first = alice.get("/api/customers/cookie", HTTP_AUTHORIZATION=f"Bearer {issue_token(role='admin')}")

    # when: client B calls the same upstream through the same pooled session
    bob.get("/api/customers/1", HTTP_AUTHORIZATION=f"Bearer {issue_token(role='finance_manager')}")

    # then
    assert [value for name, value in first.items() if name == "Set-Cookie"] == [
        "sid=secret-a; Path=/; HttpOnly",
        "theme=dark; Path=/",
    ]
    second_request = upstreams["contact"].received[1]
    assert second_request.target == "/customers/1"
    assert second_request.header("Cookie") is None


def test_client_cookie_header_is_forwarded_only_with_its_own_request(upstreams, bearer):
    # when
    Client().get("/api/customers/1", HTTP_AUTHORIZATION=bearer, HTTP_COOKIE="sid=mine")
    Client().get("/api/customers/2", HTTP_AUTHORIZATION=bearer)

    # then
    first, second = upstreams["contact"].received
    assert first.header("Cookie") == "sid=mine"
    assert second.header("Cookie") is None


def _bounded(call, seconds: float = 15.0):
    """Run a call in a thread and fail (instead of hanging the suite) if it takes longer than ``seconds``."""
    result: dict = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the gateway did not answer within {seconds}s"
    return result["value"]


def test_a_streamed_answer_is_relayed_as_it_comes_and_the_next_request_answered(upstreams, bearer):
    # when: an export, which the upstream streams without a length
    response = Client().get("/api/items/export", HTTP_AUTHORIZATION=bearer)
    body = b"".join(response.streaming_content)
    response.close()
    again = Client().get("/api/items/1", HTTP_AUTHORIZATION=bearer)

    # then: relayed whole, chunk by chunk, and the next request still answered
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body == b"sku,name\r\n" + b"A,1\r\n" * 50_000
    assert again.status_code == 200
