"""Fake upstream services: small HTTP/1.1 servers in threads that record what reaches them.

Each fake answers with an enveloped JSON echo by default; a few paths misbehave on
purpose (``/slow`` sleeps, ``/drop`` closes the connection without answering,
``/hop`` sends hop-by-hop headers, ``/cookie`` sets cookies, ``/missing`` is a 404).
``/health/ready`` and ``/schema/`` answer what the test put on the fake; ``/service-token`` issues a service
token to whoever asks (the gateway's own, see proxy.credential); ``/sso/session`` knows one
signed-in browser, the one whose cookie is ``auth_admin_session=good``, and
``POST /sso/session/token`` hands the gateway (its proof in ``X-Gateway-Token``) a token of the
person of ``SIGNED_IN`` its cookie names. A path in a fake's ``canned`` answers that data, enveloped.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from erp_testkit import issue_token
from erp_testkit.fake_services import QuietHTTPServer
from proxy import credential as credential_module
from proxy import health, ratelimit, schema, tokens, views

SERVICES = ("contact", "auth", "inventory", "sales", "purchase")
# auth_admin_session cookie value -> (email, role) of whoever holds that single sign-on session.
SIGNED_IN = {
    "good": ("ivy@example.com", "inventory_manager"),
    "fm": ("fred@example.com", "finance_manager"),
    "admin": ("ada@example.com", "admin"),
}


@dataclass
class Received:
    method: str
    target: str  # the raw request target: path and query, as sent on the wire
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class FakeUpstream:
    name: str
    server: ThreadingHTTPServer | None = None
    received: list[Received] = field(default_factory=list)
    ready: bool = True
    slow_seconds: float = 3.0
    schema: dict | None = None
    canned: dict[str, object] = field(default_factory=dict)  # path -> the data it answers

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        self.received.clear()
        self.ready, self.slow_seconds, self.schema = True, 3.0, None
        self.canned.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn gthread and nginx speak it
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def log_message(self, *args):
        pass

    def _answer(self):
        fake: FakeUpstream = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake.received.append(Received(self.command, self.path, list(self.headers.items()), body))
        path = self.path.split("?", 1)[0]
        extra: list[tuple[str, str]] = []
        status = 200
        if path.endswith("/drop"):
            self.close_connection = True  # no answer at all: the caller sees the connection drop
            return
        if path.endswith(("/slow", "/import")):  # an import takes its time (GATEWAY["IMPORT_TIMEOUT"])
            time.sleep(fake.slow_seconds)
        if path.endswith("/missing"):  # nothing there (an admin's static read that finds no file)
            status = 404
        if path.endswith("/hop"):
            extra = [
                ("Connection", "X-Secret-Hop"),
                ("X-Secret-Hop", "1"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authenticate", "Basic"),
                ("Trailer", "X-Checksum"),
                ("Upgrade", "h2c"),
                ("X-End-To-End", "kept"),
            ]
        if path.endswith("/cookie"):
            extra = [("Set-Cookie", "sid=secret-a; Path=/; HttpOnly"), ("Set-Cookie", "theme=dark; Path=/")]
        if path == "/health/ready":
            status = 200 if fake.ready else 503
        if path == "/sso/session":
            # auth_svc saying who holds a single sign-on session: "good" is Ivy's, anything else nobody's.
            signed_in = self.headers.get("Cookie") == "auth_admin_session=good"
            status = 200 if signed_in else 401
        holder = SIGNED_IN.get((self.headers.get("Cookie") or "").removeprefix("auth_admin_session="))
        if path == "/sso/session/token":
            status = 200 if holder and self.headers.get("X-Gateway-Token") else 401
        if path == "/sso/session" and signed_in:
            data = {"email": "ivy@example.com", "role": "inventory_manager"}
            payload = json.dumps({"status": 200, "message": "OK", "data": data}).encode()
        elif path == "/sso/session/token" and status == 200:
            email, role = holder
            token = issue_token(role=role, email=email)
            data = {"email": email, "role": role, "access_token": token, "expires_in": 60}
            payload = json.dumps({"status": 200, "message": "OK", "data": data}).encode()
        elif path in fake.canned:
            payload = json.dumps({"status": 200, "message": "OK", "data": fake.canned[path]}).encode()
        elif path == "/schema/" and fake.schema is not None:
            payload = json.dumps(fake.schema).encode()
        elif path == "/service-token":
            # auth_svc issuing the gateway its own token (proxy.credential), for what the test asked.
            service = json.loads(body)["service_name"]
            token = issue_token(role=None, token_type="service", user_id=service)
            data = {"access_token": token, "token_type": "Bearer", "expires_in": 900}
            payload = json.dumps({"status": 200, "message": "OK", "data": data}).encode()
        else:
            data = {"service": fake.name, "method": self.command, "target": self.path}
            payload = json.dumps({"status": status, "message": "OK", "data": data}).encode()
        if path.endswith("/export"):  # a streamed export: chunked, no length (common.csvviews)
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b"sku,name\r\n", b"A,1\r\n" * 50_000):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Upstream", fake.name)
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer


def _start(fake: FakeUpstream) -> FakeUpstream:
    server = QuietHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.server = server
    threading.Thread(target=server.serve_forever, name=f"fake-{fake.name}", daemon=True).start()
    return fake


@pytest.fixture(scope="session")
def _fake_servers():
    fakes = {name: _start(FakeUpstream(name)) for name in SERVICES}
    yield fakes
    for fake in fakes.values():
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture
def upstreams(_fake_servers, settings):
    """Point the gateway at fresh fake upstreams (short timeouts) and return them by service name.

    Short, not tight: 2 s, under the fakes' 3 s ``/slow``. At 0.5 s a fake's thread that the
    loaded machine of a whole ``make test`` did not run in time failed a test that waits on
    no timeout (the back-office home's panels, missing).
    """
    for fake in _fake_servers.values():
        fake.reset()
    settings.GATEWAY = {
        **settings.GATEWAY,
        "UPSTREAMS": {name: fake.url for name, fake in _fake_servers.items()},
        "UPSTREAM_TIMEOUT": 2.0,
        "CONNECT_TIMEOUT": 2.0,
        "HEALTH_TIMEOUT": 2.0,
        "PUBLIC_URL": "",  # no canonical host for the back office (test_back_office sets one)
    }
    schema.clear_cache()
    health.clear_recent()
    yield _fake_servers
    schema.clear_cache()
    health.clear_recent()


def closed_port_url() -> str:
    """Return a loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def unaccepting_url():
    """Yield a URL whose listen queue is full, so a new connection times out instead of being refused."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    for sock in [*fillers, listener]:
        sock.close()


@pytest.fixture
def gateway_credential(upstreams, settings, monkeypatch):
    """The gateway holds a service secret and gets its token from the (fake) auth_svc."""
    settings.ERP = {**settings.ERP, "SERVICE_SECRET": "gateway-secret", "AUTH_SERVICE_URL": upstreams["auth"].url}
    fresh = credential_module.GatewayCredential()
    monkeypatch.setattr(credential_module, "credential", fresh)
    monkeypatch.setattr(views, "credential", fresh)
    return fresh


@pytest.fixture
def bearer() -> str:
    return f"Bearer {issue_token(role='inventory_manager')}"


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    """Each test starts with no verified token remembered (and its own cache size setting)."""
    tokens.clear_cache()
    yield
    tokens.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with full buckets, read from its own settings (test_ratelimit resets them with a clock)."""
    ratelimit.reset()
    yield
    ratelimit.reset()
