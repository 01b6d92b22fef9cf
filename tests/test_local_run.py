"""The local run, driven as real processes: it starts, /health is green, a user registers and logs in.

This is the README's run command minus the install step, on a fresh data dir and
spare ports, with nothing but Python (SQLite and the filesystem broker).
"""

import contextlib
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
from pathlib import Path

import pytest
from run import SERVICES, runs_consumer

from common.testing.broker import queue_depth

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240


def _free_port_base() -> int:
    for base in range(18000, 19000, 10):
        ports = [base + s.port_offset for s in SERVICES]
        if all(_port_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


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


@contextlib.contextmanager
def running_platform(data_dir: Path, **extra_env: str):
    """Start scripts/run.py on spare ports, wait for a green /health, stop it on exit."""
    base = _free_port_base()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "ERP_POSTGRES_URL", "ERP_DB_PREFIX", "BROKER_URL", "DJANGO_DEBUG"}
    }
    env.update({"ERP_DATA_DIR": str(data_dir), "ERP_PORT_BASE": str(base), **extra_env})
    log = open(data_dir / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway = f"http://127.0.0.1:{base}"
    deadline = time.monotonic() + START_TIMEOUT
    healthy = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            healthy = _call("GET", f"{gateway}/health")[0] == 200
        except OSError:
            healthy = False
        if healthy:
            break
        time.sleep(1)
    try:
        if not healthy:
            log.flush()
            pytest.fail(f"local run not healthy:\n{(data_dir / 'run.log').read_text()[-5000:]}")
        yield {"gateway": gateway, "base": base, "process": process, "log": data_dir / "run.log"}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The README's default: nothing but Python (SQLite files, the filesystem broker)."""
    with running_platform(tmp_path_factory.mktemp("erp-run")) as running:
        yield running


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
        {"email": "finance@example.com", "password": "FinancePass!2026"},
    )
    assert status == 200, body
    assert body["data"]["user"]["role"] == "finance_manager"


def test_merged_docs_are_served(platform):
    status, schema = _call("GET", f"{platform['gateway']}/api/schema/?format=json")
    assert status == 200
    assert "/api/auth/login" in schema["paths"]


def _login(gateway: str, email: str, password: str) -> str:
    status, body = _call("POST", f"{gateway}/api/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return body["data"]["access_token"]


@pytest.mark.parametrize("kind", ["customers", "vendors"])
def test_contacts_crud_through_the_gateway(platform, kind):
    # given an inventory manager and a finance manager (the README's curl flow)
    gateway = platform["gateway"]
    im = _login(gateway, "inventory@example.com", "InventoryPass!2026")
    fm = _login(gateway, "finance@example.com", "FinancePass!2026")
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
    im = _login(gateway, "inventory@example.com", "InventoryPass!2026")
    fm = _login(gateway, "finance@example.com", "FinancePass!2026")
    status, seeded = _call("GET", f"{gateway}/api/items?sku=mon-27-4k", token=im)
    assert status == 200 and [(i["sku"], i["quantity"]) for i in seeded["data"]] == [("MON-27-4K", 24)]

    # when an item is created and its stock adjusted by hand
    sku = f"e2e-{uuid.uuid4().hex[:8]}"
    status, created = _call("POST", f"{gateway}/api/items", {"sku": sku, "name": "E2E", "unit_price": 2.5}, im)
    assert status == 201, created
    item_id = created["data"]["id"]
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


def test_stops_cleanly_on_sigterm(platform):
    # when the supervisor gets SIGTERM
    process = platform["process"]
    os.killpg(process.pid, signal.SIGTERM)
    # then every process stops and every port is released
    assert process.wait(timeout=30) is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_port_free(platform["base"] + s.port_offset) for s in SERVICES):
        time.sleep(0.2)
    assert all(_port_free(platform["base"] + s.port_offset) for s in SERVICES)
    # and each process stopped on its own terms (exit 0), relays after finishing their batch
    stops = [line for line in platform["log"].read_text().splitlines() if "stopped (rc=" in line]
    assert len(stops) == sum(1 + s.publishes + runs_consumer(s) for s in SERVICES), stops
    assert all(line.endswith("stopped (rc=0)") for line in stops), stops


PG_SERVER = "postgres://postgres@127.0.0.1:5432"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def test_postgres_and_rabbitmq_mode_publishes_through_the_broker(tmp_path):
    # given the local run against the local PostgreSQL and RabbitMQ, on names of its own
    tag = uuid.uuid4().hex[:8]
    db_prefix, events_prefix = f"erp_e2e_{tag}_", f"e2e{tag}."
    try:
        infrastructure = {
            "ERP_POSTGRES_URL": PG_SERVER,
            "ERP_DB_PREFIX": db_prefix,
            "BROKER_URL": AMQP_URL,
            "ERP_EVENTS_PREFIX": events_prefix,
        }
        with running_platform(tmp_path, **infrastructure) as running:
            fm = _login(running["gateway"], "finance@example.com", "FinancePass!2026")
            # when a customer is created through the gateway
            status, body = _call(
                "POST",
                f"{running['gateway']}/api/customers",
                {"name": "Broker Ltd", "email": f"{tag}@broker.example"},
                fm,
            )
            assert status == 201, body
            # then contact_svc's relay puts it, after the 5 seeded customers, on sales' durable queue
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and queue_depth(AMQP_URL, f"{events_prefix}sales.events") < 6:
                time.sleep(0.5)
            assert queue_depth(AMQP_URL, f"{events_prefix}sales.events") == 6
            assert queue_depth(AMQP_URL, f"{events_prefix}purchase.events") == 5  # the seeded vendors
            assert _database_names(db_prefix) == {f"{db_prefix}{s.name}" for s in SERVICES if s.database}
    finally:
        _delete_broker_names(events_prefix)
        _drop_databases(db_prefix)


def _database_names(prefix: str) -> set[str]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"]).fetchall()
    return {row[0] for row in rows}


def _delete_broker_names(prefix: str) -> None:
    """Delete only what this test's run declared: its prefixed queues and exchange."""
    from kombu import Connection

    from common.events.conf import DEFAULTS
    from common.events.topology import Topology

    with Connection(AMQP_URL) as conn:
        Topology(prefix=prefix, retry_delays=DEFAULTS["RETRY_DELAYS"]).delete(conn)


def _drop_databases(prefix: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        for name in _database_names(prefix):
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
