"""The local run, driven as real processes: it starts, /health is green, a user registers and logs in.

This is the README's run command minus the install step, on a fresh data dir and
spare ports, with nothing but Python (SQLite and the filesystem broker): the session's
embedded platform (``platform``, tests/platforms.py), shared with the other platform tests,
and once on PostgreSQL and RabbitMQ (``postgres_platform``). The SIGTERM test stops the
platform it runs against, so it runs last of the embedded platform's tests (``stops_platform``).
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from functools import partial
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from platforms import AMQP_URL, NOT_INHERITED, PG_SERVER, database_names, port_free
from run import METRICS_PORT_OFFSET, SERVICES, data_dir, demo_user, processes

from erp_testkit.broker import queue_depth

ROOT = Path(__file__).resolve().parent.parent
# The demo users' (email, password), from their one home (auth_svc/accounts/demo_users.json).
ADMIN_USER, IM_USER, FM_USER = (demo_user(role) for role in ("admin", "inventory_manager", "finance_manager"))


def _call(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


SETTLE_TIMEOUT = 60


def eventually(fetch, predicate, what: str):
    """Poll ``fetch()`` until ``predicate(result)``; fail naming ``what`` after SETTLE_TIMEOUT."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    result = fetch()
    while not predicate(result) and time.monotonic() < deadline:
        time.sleep(0.5)
        result = fetch()
    assert predicate(result), f"{what}: last seen {result}"
    return result


def test_every_service_is_ready(platform):
    # given the running platform
    for service in SERVICES[1:]:
        # when each service's readiness is asked directly
        status, body = _call("GET", f"http://127.0.0.1:{platform['base'] + service.port_offset}/health/ready")
        # then it is ready
        assert status == 200, (service.name, body)
    status, body = _call("GET", f"{platform['gateway']}/health")
    assert status == 200 and body["status"] == 200


def test_registered_user_logs_in_through_the_gateway(platform):
    # given a new user registered through the gateway (open registration is on in the local run)
    gateway = platform["gateway"]
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    status, body = _call(
        "POST",
        f"{gateway}/api/auth/register",
        {"email": email, "password": "Sturdy-Pass-2026", "role": "finance_manager"},
    )
    assert status == 201, body
    # when they log in and ask who they are
    status, login = _call("POST", f"{gateway}/api/auth/login", {"email": email, "password": "Sturdy-Pass-2026"})
    assert status == 200, login
    status, me = _call("GET", f"{gateway}/api/auth/me", token=login["data"]["access_token"])
    # then the gateway verified the token and auth_svc answered for that user
    assert status == 200, me
    assert me["data"]["email"] == email and me["data"]["role"] == "finance_manager"


def test_gateway_refuses_without_token(platform):
    status, body = _call("GET", f"{platform['gateway']}/api/auth/me")
    assert status == 401 and body["error"]["type"] == "unauthorized"


def test_demo_user_can_log_in(platform):
    status, body = _call(
        "POST",
        f"{platform['gateway']}/api/auth/login",
        {"email": FM_USER[0], "password": FM_USER[1]},
    )
    assert status == 200, body
    assert body["data"]["user"]["role"] == "finance_manager"


def merged_schema(platform) -> dict:
    """The gateway's merged OpenAPI document, once it holds every service.

    A service generates its document on each ask; on a loaded machine one may not answer within
    the gateway's SCHEMA_TIMEOUT, and the gateway then names it unavailable and asks again next time.
    """
    _, schema = eventually(
        lambda: _call("GET", f"{platform['gateway']}/api/schema/?format=json"),
        lambda answer: answer[0] == 200 and answer[1].get("x-unavailable-services") == [],
        "a merged document with every service",
    )
    return schema


def test_merged_docs_are_served(platform):
    schema = merged_schema(platform)
    assert "/api/auth/login" in schema["paths"]


def test_merged_schema_is_ready_for_a_client_generator(platform):
    # when
    schema = merged_schema(platform)

    # then JSON request bodies only but the CSV imports', and operation ids unique, each word once
    validate(schema)
    operations = [op for item in schema["paths"].values() for key, op in item.items() if key != "parameters"]
    csv_imports = {f"/api/{name}/import" for name in ("items", "customers", "vendors")}
    bodies = {
        media
        for path, item in schema["paths"].items()
        if path not in csv_imports
        for key, op in item.items()
        if key != "parameters"
        for media in op.get("requestBody", {}).get("content", {})
    }
    assert bodies == {"application/json"}
    for path in csv_imports:
        assert list(schema["paths"][path]["post"]["requestBody"]["content"]) == ["text/csv"]
        assert list(schema["paths"][path.replace("import", "export")]["get"]["responses"]["200"]["content"]) == [
            "text/csv"
        ]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if len(i.split("_")) != len(set(i.split("_")))] == []
    assert {"auth_login", "auth_users_list", "customers_list", "customers_create"} <= set(ids)


def test_make_manage_runs_a_service_command_with_the_local_run_environment(platform):
    # given the data dir and ports of the running platform
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(ERP_DATA_DIR=str(platform["log"].parent), ERP_PORT_BASE=str(platform["base"]))

    # when
    result = subprocess.run(
        ["make", "--no-print-directory", "manage", "SERVICE=contact", "CMD=outbox_status --json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(status) == ["oldest_pending_age_seconds", "pending", "sent"]
    assert status["pending"] + status["sent"] >= 1  # the demo customers' contact.created events


# A demo user's token is reused for a while: no test withdraws a demo user's access (tests/platforms.py),
# and every login costs auth_svc a password hash (a quarter of a second of CPU). Well within the token's 15 minutes.
DEMO_TOKEN_REUSE_SECONDS = 300
_demo_tokens: dict[tuple[str, str], tuple[float, str]] = {}


def _login(gateway: str, email: str, password: str) -> str:
    demo = (email, password) in (ADMIN_USER, IM_USER, FM_USER)
    reused = _demo_tokens.get((gateway, email)) if demo else None
    if reused is not None and time.monotonic() - reused[0] < DEMO_TOKEN_REUSE_SECONDS:
        return reused[1]
    status, body = _call("POST", f"{gateway}/api/auth/login", {"email": email, "password": password})
    assert status == 200, body
    token = body["data"]["access_token"]
    if demo:
        _demo_tokens[(gateway, email)] = (time.monotonic(), token)
    return token


def _register(gateway: str, role: str) -> tuple[str, str, str]:
    """Register a user of ``role`` with an email of its own (open registration); return (id, email, password).

    A test that locks out or deactivates a user does it to one of these, never to a demo user
    that the other tests on the shared platform log in as.
    """
    email, password = f"e2e-{uuid.uuid4().hex[:8]}@example.com", "Sturdy-Pass-2026"
    status, body = _call("POST", f"{gateway}/api/auth/register", {"email": email, "password": password, "role": role})
    assert status == 201, body
    return body["data"]["id"], email, password


def _manage(platform, service: str, *args: str) -> subprocess.CompletedProcess:
    """A service's manage.py command with the running platform's environment (``make manage``)."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | platform["env"]
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run.py"), "manage", service, *args],
        cwd=ROOT,
        env={**env, "ERP_PORT_BASE": str(platform["base"])},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["customers", "vendors"])
def test_contacts_crud_through_the_gateway(platform, kind):
    # given an inventory manager and a finance manager (the README's curl flow)
    gateway = platform["gateway"]
    im = _login(gateway, *IM_USER)
    fm = _login(gateway, *FM_USER)
    unique = uuid.uuid4().hex[:8]
    url = f"{gateway}/api/{kind}"

    # when a contact is created, found by search with paging, updated and deleted
    status, created = _call("POST", url, {"name": f"Acme {unique}", "email": f"Buyer-{unique}@Acme.example"}, im)
    assert status == 201, created
    contact_id = created["data"]["id"]
    assert created["data"]["email"] == f"buyer-{unique}@acme.example"

    status, found = _call("GET", f"{url}?search={unique}&limit=5&offset=0", token=im)
    assert status == 200
    assert [c["id"] for c in found["data"]] == [contact_id]
    assert found["meta"] == {"total": 1, "limit": 5, "offset": 0}

    status, patched = _call("PATCH", f"{url}/{contact_id}", {"phone": "+49 30 1234567"}, im)
    assert status == 200 and patched["data"]["phone"] == "+49 30 1234567"

    status, refused = _call("DELETE", f"{url}/{contact_id}", token=im)
    assert status == 403 and refused["error"]["type"] == "forbidden"
    status, _ = _call("DELETE", f"{url}/{contact_id}", token=fm)
    assert status == 204

    # then it is gone
    status, missing = _call("GET", f"{url}/{contact_id}", token=im)
    assert status == 404 and missing["error"]["type"] == "not_found"


def test_items_and_stock_through_the_gateway(platform):
    # given the seeded demo items and an inventory manager
    gateway = platform["gateway"]
    im = _login(gateway, *IM_USER)
    fm = _login(gateway, *FM_USER)
    status, seeded = _call("GET", f"{gateway}/api/items?sku=mon-27-4k", token=im)
    assert status == 200 and [i["sku"] for i in seeded["data"]] == ["MON-27-4K"]
    status, ledger = _call("GET", f"{gateway}/api/items/{seeded['data'][0]['id']}/movements", token=im)
    assert (24, "adjustment", "opening stock") in [(m["change"], m["reason"], m["note"]) for m in ledger["data"]]

    # when an item is created and its stock adjusted by hand
    sku = f"e2e-{uuid.uuid4().hex[:8]}"
    status, created = _call("POST", f"{gateway}/api/items", {"sku": sku, "name": "E2E", "unit_price": 2.5}, im)
    assert status == 201, created
    item_id = created["data"]["id"]
    # SQLite reports a duplicate by its column, PostgreSQL by the constraint's name: a 409 on both
    again = {"sku": f" {sku.upper()} ", "name": "E2E", "unit_price": 1}
    status, duplicate = _call("POST", f"{gateway}/api/items", again, im)
    assert status == 409 and duplicate["error"]["details"][0]["field"] == "sku", duplicate
    status, stock = _call("PUT", f"{gateway}/api/items/{item_id}/stock", {"quantity": 7, "reason": "e2e"}, im)
    assert status == 200 and stock["data"]["quantity"] == 7, stock
    status, refused = _call("PUT", f"{gateway}/api/items/{item_id}/stock", {"quantity": 1}, fm)
    assert status == 403 and refused["error"]["type"] == "forbidden"

    # then the ledger explains it, and an item with stock is not deleted
    status, movements = _call("GET", f"{gateway}/api/items/{item_id}/movements", token=fm)
    assert status == 200
    assert [(m["change"], m["reason"], m["note"]) for m in movements["data"]] == [(7, "adjustment", "e2e")]
    status, conflict = _call("DELETE", f"{gateway}/api/items/{item_id}", token=fm)
    assert status == 409 and conflict["error"]["type"] == "conflict"


def test_demo_orders_are_seeded_through_the_services_once_they_run(platform):
    # given the platform, which seeds the demo orders once its banner is out, for the demo contacts
    # (the ids it takes from contact_svc's seed_demo; other tests on the platform order for contacts of their own)
    gateway = platform["gateway"]
    fm = _login(gateway, *FM_USER)
    contacts = _manage(platform, "contact", "seed_demo", "--ids-json")
    assert contacts.returncode == 0, contacts.stdout + contacts.stderr
    demo = json.loads(contacts.stdout.strip().splitlines()[-1])
    party = {"purchase": ("vendor_id", set(demo["vendors"])), "sales": ("customer_id", set(demo["customers"]))}

    def orders(kind: str) -> list[tuple[str, str | None]]:
        # the oldest first: the demo orders are among the first made, whatever the other tests add later
        status, body = _call("GET", f"{gateway}/api/{kind}/orders?limit=100&ordering=created_at", token=fm)
        assert status == 200, body
        field, ids = party[kind]
        return sorted(
            (order["status"], order.get("stock_status") or "") for order in body["data"] if order[field] in ids
        )

    # then through the gateway: a purchase received (and one paid), a sale confirmed and issued, one paid,
    # a draft and an issued sale cancelled (its stock returned), each once
    purchases = [("Cancelled", ""), ("Draft", ""), ("Paid", ""), ("Received", "")]
    eventually(lambda: orders("purchase"), lambda seen: seen == purchases, "demo purchase orders")
    sales = [("Cancelled", ""), ("Cancelled", "returned"), ("Confirmed", "issued"), ("Draft", ""), ("Paid", "issued")]
    eventually(lambda: orders("sales"), lambda seen: seen == sales, "demo sales orders")

    # and the stock moved by event: a demo item received, then issued
    _, item = _call("GET", f"{gateway}/api/items?sku=MON-27-4K", token=fm)
    _, ledger = _call("GET", f"{gateway}/api/items/{item['data'][0]['id']}/movements", token=fm)
    assert {"adjustment", "purchase_receipt", "sales_issue"} <= {m["reason"] for m in ledger["data"]}
    # and the run logs the sales seed's report once its process is done (just after its orders settle)
    report = "[erp] sales_svc: sales orders: "
    eventually(platform["log"].read_text, lambda log: report in log, "the sales seed's report in the run's log")


# ---------------------------------------------------------------- the edge under attack (issue 7)


def _http(
    port: int,
    method: str,
    path: str,
    body=None,
    *,
    source: str = "127.0.0.1",
    chunked: bool = False,
    raw=False,
    **headers,
):
    """One request from ``source`` (any 127.x address is this host); returns (status, headers, parsed body).

    ``raw=True``: the body as the bytes that came, unparsed (to compare renderings).
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    payload = json.dumps(body).encode() if isinstance(body, dict | list) else body
    headers = {"Content-Type": "application/json", **headers}
    try:
        if chunked:  # http.client frames an iterable body as chunks, without a Content-Length
            connection.request(
                method, path, body=iter([payload[:7], payload[7:]]), headers=headers, encode_chunked=True
            )
        else:
            connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    is_json = (response.getheader("Content-Type") or "").startswith("application/json")
    return response.status, response, json.loads(data) if is_json and data and not raw else data


def _port(platform, name: str) -> int:
    return platform["base"] + next(s.port_offset for s in SERVICES if s.name == name)


def test_through_the_gateway_each_client_is_locked_out_on_its_own_address(platform):
    # given: a user of its own on two clients of one host, 127.0.0.2 and 127.0.0.3; the first fails five times
    _, email, password = _register(platform["gateway"], "inventory_manager")
    gateway, login = _port(platform, "gateway"), "/api/auth/login"
    wrong = {"email": email, "password": "wrong-password"}
    right = {"email": email, "password": password}
    for _ in range(5):
        assert _http(gateway, "POST", login, wrong, source="127.0.0.2")[0] == 401

    # when
    locked = _http(gateway, "POST", login, right, source="127.0.0.2")
    other = _http(gateway, "POST", login, right, source="127.0.0.3")

    # then: auth_svc believed the address the gateway vouched for, not the gateway's own
    assert locked[0] == 429
    assert other[0] == 200


def test_straight_to_auth_a_made_up_forwarded_for_is_ignored(platform):
    # given: a user of its own; five wrong passwords sent around the gateway, each "from" another address
    _, email, password = _register(platform["gateway"], "finance_manager")
    auth = _port(platform, "auth")
    wrong = {"email": email, "password": "wrong-password"}
    for n in range(5):
        status = _http(auth, "POST", "/login", wrong, source="127.0.0.4", **{"X-Forwarded-For": f"203.0.113.{n}"})[0]
        assert status == 401

    # when
    right = {"email": email, "password": password}
    status = _http(auth, "POST", "/login", right, source="127.0.0.4", **{"X-Forwarded-For": "203.0.113.99"})[0]

    # then
    assert status == 429


def test_reset_mail_is_sent_by_the_worker_and_kept_private(platform):
    # when (from an address of its own: the reset throttle counts per client address)
    forgot = {"email": ADMIN_USER[0]}
    status = _http(_port(platform, "gateway"), "POST", "/api/auth/forgot-password", forgot, source="127.0.0.7")[0]

    # then: auth's jobs process (its Celery worker) writes it, readable by its owner alone
    assert status == 200
    folder = platform["log"].parent / "mail"
    deadline = time.monotonic() + 30
    mails: list[Path] = []
    while time.monotonic() < deadline and not mails:
        mails = [path for path in folder.glob("*.log") if f"To: {ADMIN_USER[0]}" in path.read_text()]
        time.sleep(0.2)
    assert len(mails) == 1
    assert (folder.stat().st_mode & 0o777, mails[0].stat().st_mode & 0o777) == (0o700, 0o600)


@pytest.mark.parametrize("earlier_mode", [None, 0o755])
def test_data_dir_is_private_to_its_owner(tmp_path, monkeypatch, earlier_mode):
    # given: a fresh data dir, or one an earlier run left readable by anybody, under a usual umask
    folder = tmp_path / "data"
    if earlier_mode is not None:
        folder.mkdir(mode=earlier_mode)
        folder.chmod(earlier_mode)
    monkeypatch.setenv("ERP_DATA_DIR", str(folder))
    previous_umask = os.umask(0o022)

    # when
    try:
        data_dir()
    finally:
        os.umask(previous_umask)

    # then: the SQLite files in it hold password hashes and live refresh tokens
    assert folder.stat().st_mode & 0o777 == 0o700


def test_metrics_are_served_by_the_services_only(platform):
    assert _http(_port(platform, "gateway"), "GET", "/metrics")[0] == 404
    status, _, body = _http(_port(platform, "contact"), "GET", "/metrics")
    assert status == 200 and b"erp_http_requests_total" in body


def test_the_gateways_metrics_are_on_their_own_listener(platform):
    # when: a request through the gateway, then a scrape of base+9
    assert _http(_port(platform, "gateway"), "GET", "/health/live")[0] == 200
    status, _, body = _http(platform["base"] + METRICS_PORT_OFFSET, "GET", "/metrics")

    # then
    assert status == 200
    assert b'erp_gateway_requests_total{method="GET",service="gateway",status="2xx"}' in body


@pytest.mark.parametrize("target", ["gateway", "auth"])
def test_chunked_login_is_read_whole(platform, target):
    # when
    path = "/api/auth/login" if target == "gateway" else "/login"
    body = {"email": ADMIN_USER[0], "password": ADMIN_USER[1]}
    status, _, answer = _http(_port(platform, target), "POST", path, body, chunked=True, source="127.0.0.5")

    # then: not "email required", as when a chunked body was dropped
    assert status == 200, answer
    assert answer["data"]["user"]["email"] == ADMIN_USER[0]


@pytest.mark.parametrize("target", [service.name for service in SERVICES])
def test_a_non_text_charset_is_ignored_not_a_500(platform, target):
    # when: Django decoded the query string with any codec, zlib included, before any middleware
    status, _, _ = _http(
        _port(platform, target), "GET", "/health/live?probe=1", **{"Content-Type": "text/plain; charset=zlib"}
    )

    # then
    assert status == 200


@pytest.mark.parametrize(
    "framing",
    [b"ff\r\n" + b'{"email": "a"', b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"],
    ids=["cut-short", "bad-chunk-size", "no-chunk-terminator"],
)
@pytest.mark.parametrize(("target", "path"), [("gateway", "/api/auth/login"), ("auth", "/login")])
def test_a_broken_chunked_body_is_400_in_the_envelope(platform, target, path, framing):
    # given: the client breaks the chunked framing, then closes its side
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"

    # when
    with socket.create_connection(("127.0.0.1", _port(platform, target)), timeout=30) as sock:
        sock.sendall(head.encode() + framing)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    # then: the client's fault, said in the envelope; not a 500 with a traceback
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"The request body was cut short or badly framed." in answer


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n", 400),
        (b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    ],
    ids=["request-line", "header-name", "header-too-large"],
)
@pytest.mark.parametrize("target", ["gateway", "contact"])
def test_a_request_the_web_server_cannot_parse_is_refused_in_the_envelope(platform, target, head, status):
    # when: gunicorn refuses it itself, before Django sees it (scripts/gunicorn.conf.py, common.server_errors)
    with socket.create_connection(("127.0.0.1", _port(platform, target)), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk

    # then: its status, in the envelope, not its HTML page
    head_lines, _, body = answer.partition(b"\r\n\r\n")
    assert head_lines.split(b"\r\n")[0].split()[1] == str(status).encode(), answer[:300]
    assert b"\r\nContent-Type: application/json\r\n" in head_lines + b"\r\n", answer[:300]
    error = json.loads(body)["error"]
    assert json.loads(body)["status"] == status and error["type"] == "bad_request" and error["message"]


@pytest.mark.parametrize(("target", "path"), [("gateway", "/api/auth/login"), ("contact", "/customers")])
def test_a_body_over_a_mebibyte_is_413_in_the_envelope(platform, target, path):
    # given: one byte over the default limit; the server may answer and close before reading it all
    body = b" " * (2**20 + 1)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"

    # when
    with socket.create_connection(("127.0.0.1", _port(platform, target)), timeout=30) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        answer = b""
        # A server that closes with the body unread resets the connection once its answer is out.
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk

    # then
    status_line = answer.partition(b"\r\n")[0]
    assert status_line.split()[1] == b"413", answer[:500]
    assert b'"type": "payload_too_large"' in answer or b'"type":"payload_too_large"' in answer


@pytest.mark.parametrize(("target", "path"), [("gateway", "/api/auth/login"), ("auth", "/login")])
def test_json_nested_a_thousand_deep_is_400(platform, target, path):
    status, _, body = _http(_port(platform, target), "POST", path, b"[" * 1000 + b"]" * 1000)

    assert status == 400
    assert body["error"]["type"] == "bad_request"


def test_multipart_register_is_415_and_makes_no_admin(platform):
    # given: issue 7's exploit, a file part named "admin" for the role
    boundary = "x" + uuid.uuid4().hex
    email = f"evil-{uuid.uuid4().hex[:8]}@example.com"
    parts = [("email", None, email), ("password", None, "Zq8!vLm#42pT"), ("role", "admin", "x")]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'.encode()
            + (f'; filename="{filename}"'.encode() if filename else b"")
            + f"\r\n\r\n{value}\r\n".encode()
            for name, filename, value in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"

    # when
    status = _http(_port(platform, "gateway"), "POST", "/api/auth/register", body, **{"Content-Type": content_type})[0]

    # then
    assert status == 415
    login = {"email": email, "password": "Zq8!vLm#42pT"}
    assert _http(_port(platform, "gateway"), "POST", "/api/auth/login", login, source="127.0.0.6")[0] == 401


def test_a_token_with_a_string_exp_is_the_same_401_at_the_gateway_and_a_service(platform):
    # given: signed with the platform's own key, every claim right but exp a string
    import jwt

    now = int(time.time())
    claims = {
        "user_id": str(uuid.uuid4()), "email": "a@example.com", "role": "admin", "type": "user",
        "token_type": "access", "iss": "erp-auth", "aud": "erp", "iat": now, "exp": str(now + 600), "jti": "j1",
    }  # fmt: skip
    key = (platform["log"].parent / "keys" / "jwt_private.pem").read_text()
    bearer = {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='RS256')}"}

    # when
    at_gateway = _http(_port(platform, "gateway"), "GET", "/api/customers", **bearer)
    at_service = _http(_port(platform, "contact"), "GET", "/customers", **bearer)

    # then
    assert at_gateway[0] == at_service[0] == 401
    assert (
        at_gateway[2]
        == at_service[2]
        == {
            "status": 401,
            "error": {"type": "unauthorized", "message": "Invalid or expired token.", "details": None},
        }
    )


def test_a_killed_consumer_is_started_again_while_the_api_stays_up(embedded_platform):
    # given the platform's inventory consumer, as the supervisor started it (no other test kills it)
    platform = embedded_platform
    started = [line for line in platform["log"].read_text().splitlines() if "inventory-consumer started (pid=" in line]
    assert len(started) == 1, started
    pid = int(started[0].rsplit("pid=", 1)[1].rstrip(")"))
    # when it is killed (SIGKILL: no chance to clean up)
    os.kill(pid, signal.SIGKILL)

    # then the supervisor says so and starts it again (connected to its queue once more), and the run goes on
    def connected() -> int:
        lines = platform["log"].read_text().splitlines()
        return sum(1 for line in lines if "inventory-consumer |" in line and "event consumer connected" in line)

    eventually(connected, lambda count: count == 2, "the consumer connected again")
    assert platform["log"].read_text().count("inventory-consumer started (pid=") == 2
    assert (
        f"inventory-consumer exited (rc={-signal.SIGKILL}); starting it again in 0.5 s" in platform["log"].read_text()
    )
    assert platform["process"].poll() is None
    status, body = _call("GET", f"{platform['gateway']}/health")
    assert status == 200, body


@pytest.mark.stops_platform
def test_stops_cleanly_on_sigterm(embedded_platform, monkeypatch):
    # given the session's README-default platform, after its every other test: it is stopped here
    platform = embedded_platform
    # (its processes are the README default's: no PostgreSQL or RabbitMQ URL, which this test process has)
    for name in NOT_INHERITED:
        monkeypatch.delenv(name, raising=False)

    # when the supervisor gets SIGTERM
    process = platform["process"]
    os.killpg(process.pid, signal.SIGTERM)

    # then every process stops and every port is released
    assert process.wait(timeout=30) is not None
    ports = [platform["base"] + s.port_offset for s in SERVICES]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(port_free(port) for port in ports):
        time.sleep(0.2)
    assert all(port_free(port) for port in ports)
    # and each process stopped on its own terms (exit 0), relays after finishing their batch
    stops = [line for line in platform["log"].read_text().splitlines() if "stopped (rc=" in line]
    assert len(stops) == sum(len(processes(s)) for s in SERVICES), stops
    assert all(line.endswith("stopped (rc=0)") for line in stops), stops


def test_postgres_and_rabbitmq_mode_publishes_through_the_broker(postgres_platform):
    # given the local run against the local PostgreSQL and RabbitMQ, on names of its own
    running, db_prefix = postgres_platform, postgres_platform["db_prefix"]
    fm = _login(running["gateway"], *FM_USER)

    # when a customer is created through the gateway
    tag = uuid.uuid4().hex[:8]
    status, body = _call(
        "POST", f"{running['gateway']}/api/customers", {"name": "Broker Ltd", "email": f"{tag}@broker.example"}, fm
    )
    assert status == 201, body

    # then contact_svc's relay puts it, after the 5 seeded customers (and whatever the other tests on this
    # platform made), through RabbitMQ to sales' consumer, which records each event once in its inbox,
    # and purchase each vendor's; nothing is dead-lettered
    created = _outbox_event_ids(db_prefix, "contact", "contact.customer.created", aggregate_id=body["data"]["id"])
    customers = _outbox_event_ids(db_prefix, "contact", "contact.customer.created")
    vendors = _outbox_event_ids(db_prefix, "contact", "contact.vendor.created")
    assert len(created) == 1 and created[0] in customers and len(customers) >= 6 and len(vendors) >= 5
    sales_inbox = partial(_inbox_event_ids, db_prefix, "sales", "contact.customer.created")
    eventually(sales_inbox, customers.__eq__, "sales' inbox of customer events")
    purchase_inbox = partial(_inbox_event_ids, db_prefix, "purchase", "contact.vendor.created")
    eventually(purchase_inbox, vendors.__eq__, "purchase's inbox of vendor events")
    assert _depth_once_declared(f"{postgres_platform['events_prefix']}sales.events.dlq") == 0
    assert database_names(db_prefix) == {f"{db_prefix}{s.name}" for s in SERVICES if s.database}


def _outbox_event_ids(prefix: str, service: str, event_type: str, aggregate_id: str | None = None) -> list[str]:
    """The ids of the ``event_type`` events ``service`` wrote to its outbox (of one aggregate), sorted."""
    query = "SELECT event_id FROM events_outboxevent WHERE event_type = %s"
    params = [event_type]
    if aggregate_id is not None:
        query += " AND aggregate_id = %s"
        params.append(aggregate_id)
    return _event_ids(f"{prefix}{service}", query, params)


def _inbox_event_ids(prefix: str, service: str, event_type: str) -> list[str]:
    """The ids of the ``event_type`` events ``service``'s consumer has applied (its inbox), sorted, repeats kept."""
    return _event_ids(
        f"{prefix}{service}", "SELECT event_id FROM events_inboxevent WHERE event_type = %s", [event_type]
    )


def _event_ids(database: str, query: str, params: list[str]) -> list[str]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{database}") as conn:
        return sorted(str(row[0]) for row in conn.execute(query, params).fetchall())


def _depth_once_declared(queue: str) -> int:
    """The queue's depth, 0 until the relay (which declares the topology when it first connects) made it."""
    from amqp.exceptions import NotFound

    try:
        return queue_depth(AMQP_URL, queue)
    except NotFound:
        return 0
