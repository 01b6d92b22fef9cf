"""ServiceClient against a real (tiny) HTTP server: tokens, request ids, failures, cookies."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from common.exceptions import BadGateway, UpstreamTimeout, UpstreamUnavailable
from common.http import ServiceClient, ServiceTokenCache, close_pool
from common.request_id import reset_request_id, set_request_id
from erp_testkit import fake_services
from erp_testkit.fake_services import QuietHTTPServer


class FakeUpstream(QuietHTTPServer):
    """auth_svc's /service-token and a few resource paths, recording what it was sent."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.requests: list[tuple[str, str, dict]] = []
        self.bodies: list[dict] = []
        self.tokens_issued = 0
        self.refused_tokens: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self, path: str) -> list[dict]:
        return [headers for _, seen_path, headers in self.requests if seen_path == path]


class FakeHandler(BaseHTTPRequestHandler):
    server: FakeUpstream

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _answer(self, status: int, body=None, headers: dict | None = None):
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
        self.server.requests.append(("POST", self.path, dict(self.headers)))
        if self.path == "/service-token":
            self.server.tokens_issued += 1
            token = f"tok-{self.server.tokens_issued}"
            data = {"access_token": token, "token_type": "Bearer", "expires_in": 900}
            return self._answer(200, {"status": 200, "message": "OK", "data": data})
        return self._answer(404, {"status": 404})

    def do_GET(self):
        self.server.requests.append(("GET", self.path, dict(self.headers)))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.server.refused_tokens:
            return self._answer(401, {"status": 401, "error": {"type": "unauthorized"}})
        if self.path == "/items/known":
            body = {"status": 200, "message": "OK", "data": {"sku": "COG"}}
            return self._answer(200, body, {"Set-Cookie": "sessionid=leak; Path=/"})
        if self.path == "/slow":
            time.sleep(1)
            return self._answer(200, {"status": 200, "message": "OK", "data": {}})
        if self.path == "/boom":
            return self._answer(500, {"status": 500})
        if self.path == "/forbidden":
            return self._answer(403, {"status": 403})
        if self.path.startswith("/truncated"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            return self.wfile.write(b'{"status": 200')  # and the connection closes
        if self.path == "/not-json":
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            return self.wfile.write(b"hello")
        return self._answer(404, {"status": 404, "error": {"type": "not_found"}})


@pytest.fixture
def upstream(settings):
    server = FakeUpstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.ERP = {**settings.ERP, "AUTH_SERVICE_URL": server.url, "SERVICE_SECRET": "s3cret", "HTTP_TIMEOUT": 2.0}
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(upstream):
    # A token cache of its own, so no test sees another's token.
    return ServiceClient(upstream.url, token_cache=ServiceTokenCache())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_service_token_is_fetched_once_and_cached(upstream, client):
    # when
    first = client.get_json("/items/known")
    second = client.get_json("/items/known")

    # then
    assert first == second == {"sku": "COG"}
    assert upstream.tokens_issued == 1
    assert [headers["Authorization"] for headers in upstream.calls("/items/known")] == ["Bearer tok-1"] * 2


def test_service_token_request_proves_the_service_secret(upstream, client):
    # when
    client.get_json("/items/known")

    # then
    assert upstream.bodies == [{"service_name": "commontest", "service_secret": "s3cret"}]


def test_token_is_fetched_again_once_after_a_401(upstream, client):
    # given: auth_svc rotated its key, so the cached token is now refused
    client.get_json("/items/known")
    upstream.refused_tokens.add("tok-1")

    # when
    data = client.get_json("/items/known")

    # then
    assert data == {"sku": "COG"}
    assert upstream.tokens_issued == 2
    assert [headers["Authorization"] for headers in upstream.calls("/items/known")] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_a_second_401_is_returned_not_retried_forever(upstream, client):
    upstream.refused_tokens.update({"tok-1", "tok-2", "tok-3"})

    response = client.request("GET", "/items/known")

    assert response.status_code == 401
    assert upstream.tokens_issued == 2


def test_request_id_is_passed_on(upstream, client):
    # given
    token = set_request_id("req-7")

    # when
    try:
        client.get_json("/items/known")
    finally:
        reset_request_id(token)

    # then: on the token fetch and on the call itself
    assert upstream.calls("/service-token")[0]["X-Request-ID"] == "req-7"
    assert upstream.calls("/items/known")[0]["X-Request-ID"] == "req-7"


def test_cookies_set_by_the_server_are_never_sent_back(upstream, client):
    # when
    client.get_json("/items/known")
    client.get_json("/items/known")

    # then
    assert [headers.get("Cookie") for headers in upstream.calls("/items/known")] == [None, None]


def test_query_parameters_are_encoded_and_a_none_is_left_out(upstream, client):
    # when
    client.get_json("/items/known", params={"search": "a&b c", "ordering": None, "ids": "1,2", "kind": ["a", None]})
    client.get_json("/items/known?limit=5", params={"offset": 5})

    # then
    assert [path for _, path, _ in upstream.requests if path.startswith("/items/known")] == [
        "/items/known?search=a%26b+c&ids=1%2C2&kind=a",
        "/items/known?limit=5&offset=5",
    ]


def test_an_answer_whose_body_breaks_off_is_bad_gateway_and_the_log_keeps_no_query(client, caplog):
    # the upstream answered: not a 503 (whose Retry-After says the upstream is down)
    with pytest.raises(BadGateway) as raised:
        client.get_json("/truncated", params={"search": "jane@example.com"})

    assert raised.value.status_code == 502
    assert "/truncated failed: unreadable answer" in caplog.text
    assert "jane" not in caplog.text


def test_404_is_none(client):
    assert client.get_json("/items/unknown") is None


def test_5xx_is_bad_gateway(client):
    with pytest.raises(BadGateway) as raised:
        client.get_json("/boom")

    assert raised.value.status_code == 502


def test_other_client_errors_are_bad_gateway_for_get_json(client):
    with pytest.raises(BadGateway):
        client.get_json("/forbidden")


def test_a_body_that_is_not_an_envelope_is_bad_gateway(client):
    with pytest.raises(BadGateway):
        client.get_json("/not-json")


def test_slow_server_is_upstream_timeout(upstream):
    client = ServiceClient(upstream.url, timeout=0.2, token_cache=ServiceTokenCache())

    with pytest.raises(UpstreamTimeout) as raised:
        client.get_json("/slow")

    assert raised.value.status_code == 504


def test_unreachable_port_is_upstream_unavailable(upstream, caplog):
    url = f"http://127.0.0.1:{_free_port()}"
    client = ServiceClient(url, token_cache=ServiceTokenCache())

    with pytest.raises(UpstreamUnavailable) as raised:
        client.get_json("/items/known")

    assert raised.value.status_code == 503
    # the client learns nothing of the internal address; the operator's log has it
    assert str(raised.value.detail) == "A service this request needs is unavailable."
    assert f"{url}/items/known" in caplog.text


def test_unreachable_auth_service_is_upstream_unavailable(settings, upstream):
    settings.ERP = {**settings.ERP, "AUTH_SERVICE_URL": f"http://127.0.0.1:{_free_port()}"}
    client = ServiceClient(upstream.url, token_cache=ServiceTokenCache())

    with pytest.raises(UpstreamUnavailable):
        client.get_json("/items/known")

    assert upstream.calls("/items/known") == []


def test_missing_service_secret_is_upstream_unavailable(settings, upstream, caplog):
    settings.ERP = {**settings.ERP, "SERVICE_SECRET": None}
    client = ServiceClient(upstream.url, token_cache=ServiceTokenCache())

    with pytest.raises(UpstreamUnavailable) as raised:
        client.get_json("/items/known")

    assert "SERVICE_SECRET" not in str(raised.value.detail)
    assert "SERVICE_SECRET is not configured" in caplog.text


def test_clients_of_one_upstream_share_a_connection_pool(upstream):
    assert ServiceClient(upstream.url).pool is ServiceClient(upstream.url + "/").pool


def test_service_calls_ignore_the_proxy_of_the_environment(upstream, client, monkeypatch):
    # given: a proxy in the environment that refuses every connection, and no NO_PROXY to spare loopback
    dead_proxy = f"http://127.0.0.1:{_free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    # when / then: the service is reached at the URL its settings name, not through the proxy
    assert client.get_json("/items/known") == {"sku": "COG"}


@pytest.fixture
def keep_alive_upstream():
    with fake_services.keep_alive_upstream() as url:
        yield url
        close_pool(url)


def test_a_kept_alive_connection_is_reused_while_fresh_and_retired_before_the_upstream_closes_it(
    keep_alive_upstream, settings
):
    # given: connections retire after 0.3 s idle, under the upstream's keep-alive (0.6 s)
    settings.ERP = {**settings.ERP, "HTTP_IDLE_SECONDS": 0.3}
    client = ServiceClient(keep_alive_upstream, token_cache=_FixedToken())
    first = client.get_json("/port")["port"]

    # when: one call at once, one after the connection idled until just before the upstream closes it
    again = client.get_json("/port")["port"]
    time.sleep(0.5)
    after = client.get_json("/port")["port"]

    # then: the same connection while fresh; a new one, not the one about to be closed, after
    assert again == first
    assert after != first


class _FixedToken:
    """A token cache that never asks auth_svc."""

    def get(self) -> str:
        return "service-token"

    def invalidate(self) -> None:
        pass
