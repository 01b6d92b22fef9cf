"""The original implementation's own client keeps working: its Postman collection, run by newman (issue 13).

The collection (``tests/compat/original-postman-collection.json``, copied unchanged from the
original, its provenance in ``tests/compat/README.md``) is run once, as its users run it, against a
local run: the README's run command on spare ports, its seeded demo data and nothing else.
Each of its requests must answer the status listed in ``EXPECTED`` with the reason; where we differ
from the original on purpose the reason says so (``DIFFERS``), and the table of
``docs/compatibility.md`` lists the same rows. Whatever the status, nothing is a 5xx and every
answer is the JSON envelope, rendered the one way the services render it, the gateway's own
answers included.

The local run is the session's embedded platform (tests/platforms.py), shared with the other
platform tests: the collection's user is one no other test registers, what it creates it deletes
again, and no expectation depends on what the other tests made, so it answers as on a fresh run.

newman comes from the npm registry, pinned in ``tests/compat/package-lock.json``; the first
run installs it there with ``npm ci`` (node and npm are needed: the test fails, never skips,
without them).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_local_run import _http, _port

ROOT = Path(__file__).resolve().parent.parent
COMPAT_DIR = ROOT / "tests" / "compat"
COLLECTION = COMPAT_DIR / "original-postman-collection.json"
# The original's file, byte for byte (tests/compat/README.md says where it comes from).
COLLECTION_SHA256 = "0141578a314a889dc24f368f8612f6082d44e20d1f1e8d86bcbd262db0d2b3c9"


NEWMAN_TIMEOUT = 300

DIFFERS = "DIFFERS from the original: "
# A request before the one that sets its id asks ".../" (or ".../<empty>/confirm"); the original's
# router took "GET /api/customers/" for the list.
EMPTY_ID = DIFFERS + "{} is still empty ({}), so the path has an empty id: no route has one"
SET_NEXT = "the next request sets it"
# The order creates are refused (see them), and a created order would not set them either: the
# collection's scripts read data.order.id while an order is flat (as in the original's own code).
ORDER_NOT_SET = "never set: the create was refused, and its script reads data.order.id of a flat order"

# (request name in the collection, expected status, why), in the collection's order. It runs as
# finance@example.com, the finance_manager its first request registers.
EXPECTED: list[tuple[str, int, str]] = [
    ("Register User", 201, "open registration in the local run; no seeded user takes the collection's email"),
    ("Login", 200, "the user just registered; the collection keeps its access token"),
    ("Forgot Password", 200, "always the same answer; the reset token goes by mail, never in the response"),
    ("Reset Password", 400, DIFFERS + "the collection's sample reset token is none auth_svc issued: validation"),
    ("Generate Service Token", 404, DIFFERS + "the service-token endpoint is not routed by the gateway (contract §3)"),
    ("List Customers", 200, "the seeded demo customers"),
    ("Get Customer by ID", 404, EMPTY_ID.format("customer_id", SET_NEXT)),
    ("Create Customer", 201, "the collection's customer; its script keeps the id"),
    ("Update Customer", 200, "PUT replaces"),
    ("Delete Customer", 204, "a finance manager may delete customers"),
    ("List Vendors", 200, "the seeded demo vendors"),
    ("Get Vendor by ID", 404, EMPTY_ID.format("vendor_id", SET_NEXT)),
    ("Create Vendor", 201, "the collection's vendor; its script keeps the id"),
    ("Update Vendor", 200, "PUT replaces"),
    ("Delete Vendor", 204, "a finance manager may delete vendors"),
    ("List Items", 200, "the seeded demo items"),
    ("Get Item by ID", 404, EMPTY_ID.format("item_id", SET_NEXT)),
    ("Create Item", 201, "the collection's item (no seeded item takes its SKU); its script keeps the id"),
    ("Update Item", 200, "PUT replaces"),
    ("Delete Item", 204, "a finance manager may delete an item with no stock on hand"),
    ("Get Stock", 404, "the item was deleted by the request before (as in the original)"),
    ("Adjust Stock", 403, DIFFERS + "a finance manager may not adjust stock (contract §3); the role is checked first"),
    ("List Sales Orders", 200, "the demo sales orders, seeded as the run starts (or not yet)"),
    ("Get Sales Order by ID", 404, EMPTY_ID.format("sales_order_id", "the next request does not set it")),
    (
        "Create Sales Order",
        400,
        "the collection deleted its customer before: validation names customer_id (the original: 400)",
    ),
    ("Update Sales Order", 404, EMPTY_ID.format("sales_order_id", ORDER_NOT_SET)),
    ("Confirm Sales Order", 404, EMPTY_ID.format("sales_order_id", ORDER_NOT_SET)),
    ("Pay Sales Order", 404, EMPTY_ID.format("sales_order_id", ORDER_NOT_SET)),
    ("List Purchase Orders", 200, "the demo purchase orders, seeded as the run starts (or not yet)"),
    ("Get Purchase Order by ID", 404, EMPTY_ID.format("purchase_order_id", "the next request does not set it")),
    (
        "Create Purchase Order",
        400,
        "the collection deleted its vendor before: validation names vendor_id (the original: 400)",
    ),
    ("Update Purchase Order", 404, EMPTY_ID.format("purchase_order_id", ORDER_NOT_SET)),
    ("Receive Purchase Order", 404, EMPTY_ID.format("purchase_order_id", ORDER_NOT_SET)),
    ("Pay Purchase Order", 404, EMPTY_ID.format("purchase_order_id", ORDER_NOT_SET)),
    ("Gateway Health", 200, DIFFERS + "every upstream ready, in the JSON envelope (the original answered the text OK)"),
]


DOC = ROOT / "docs" / "compatibility.md"


def _documented_differences() -> dict[str, int]:
    """The table of deliberate differences in docs/compatibility.md, as {request name: status}."""
    table = [line.split("|")[1:3] for line in DOC.read_text().splitlines() if line.startswith("| ")]
    rows = table[1:]  # minus the header
    return {name.strip(): int(status) for names, status in rows for name in names.split(",")}


def test_the_documented_table_lists_exactly_the_deliberate_differences():
    differing = {name: status for name, status, why in EXPECTED if why.startswith(DIFFERS)}
    assert _documented_differences() == differing


def test_the_collection_is_the_originals_unchanged():
    assert hashlib.sha256(COLLECTION.read_bytes()).hexdigest() == COLLECTION_SHA256


def _newman() -> Path:
    """Return newman's command, installed from the lock file with ``npm ci`` unless it already is."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("node and npm are needed to run the original's Postman collection with newman (tests/compat)")
    lock = hashlib.sha256((COMPAT_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = COMPAT_DIR / "node_modules" / ".erp-installed"  # npm ci empties node_modules first
    if not stamp.exists() or stamp.read_text() != lock:
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=COMPAT_DIR, capture_output=True, text=True, timeout=600
        )
        assert installed.returncode == 0, f"npm ci failed in {COMPAT_DIR}:\n{installed.stdout}\n{installed.stderr}"
        stamp.write_text(lock)
    return COMPAT_DIR / "node_modules" / ".bin" / "newman"


@pytest.fixture(scope="module")
def compat(platform, tmp_path_factory):
    """The collection run once against the session's local run: (platform, newman's exit, its report)."""
    newman = _newman()
    report = tmp_path_factory.mktemp("erp-compat") / "newman.json"
    run, answers = _run_newman(newman, COLLECTION, platform, report)
    return platform, run, answers


def _run_newman(
    newman: Path, collection: Path, platform: dict, report: Path
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the collection once against ``platform``; return newman's exit and its JSON report."""
    run = subprocess.run(
        [
            str(newman),
            "run",
            str(collection),
            "--env-var",  # an environment value wins over the collection's own base_url
            f"base_url={platform['gateway']}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--timeout-request",
            "30000",
            "--color",
            "off",
        ],
        cwd=COMPAT_DIR,
        capture_output=True,
        text=True,
        timeout=NEWMAN_TIMEOUT,
    )
    assert report.is_file(), f"newman wrote no report:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    return run, json.loads(report.read_text())


def _answers(report: dict) -> list[tuple[str, int, bytes, str]]:
    """(request name, status, body bytes, Content-Type) of each request newman ran, in order."""
    answers = []
    for execution in report["run"]["executions"]:
        response = execution["response"]
        content_types = [h["value"] for h in response["header"] if h["key"].lower() == "content-type"]
        body = bytes(response.get("stream", {}).get("data", []))
        answers.append((execution["item"]["name"], response["code"], body, ",".join(content_types)))
    return answers


def test_newman_runs_every_request_of_the_collection_without_an_error(compat):
    # given the collection run once on a fresh platform
    _, run, report = compat

    # then every request ran, in the collection's order, and none of its scripts failed
    assert [name for name, *_ in _answers(report)] == [name for name, _, _ in EXPECTED]
    assert report["run"]["failures"] == [], run.stdout[-5000:]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]


def test_each_request_answers_its_expected_status(compat):
    # given
    _, _, report = compat
    expected = {name: (status, why) for name, status, why in EXPECTED}

    # when
    got = [(name, status, body) for name, status, body, _ in _answers(report)]

    # then
    wrong = [
        f"{name}: {status}, expected {expected[name][0]} ({expected[name][1]}): {body[:300]!r}"
        for name, status, body in got
        if status != expected[name][0]
    ]
    assert wrong == []


def test_nothing_is_a_5xx(compat):
    _, _, report = compat
    assert [(name, status) for name, status, *_ in _answers(report) if status >= 500] == []


def _is_envelope(body: dict, status: int) -> bool:
    if body.get("status") != status:
        return False
    if status >= 400:
        error = body.get("error")
        return (
            set(body) == {"status", "error"}
            and isinstance(error, dict)
            and set(error) == {"type", "message", "details"}
        )
    return set(body) in ({"status", "message", "data"}, {"status", "message", "data", "meta"})


def test_every_answer_is_the_json_envelope_rendered_as_the_services_render_it(compat):
    # given
    _, _, report = compat

    for name, status, body, content_type in _answers(report):
        if status == 204:  # No Content: no body at all (contract §2)
            assert body == b"", name
            continue
        # then JSON, in the envelope, and compact as DRF renders it (the gateway's own 404 and /health too)
        assert content_type == "application/json", (name, content_type)
        parsed = json.loads(body)
        assert _is_envelope(parsed, status), (name, parsed)
        assert body == json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode(), (name, body[:300])


# A second run on the same platform: its user exists now (409, as in the original); everything else
# answers as the first time, since the collection deletes what it creates. docs/compatibility.md says so.
SECOND_RUN = {"Register User": (409, "conflict")}


def test_a_second_run_on_the_same_platform_differs_only_where_the_docs_say(compat, tmp_path):
    # given the collection run once
    platform, _, first = compat

    # when it runs again
    again, second = _run_newman(_newman(), COLLECTION, platform, tmp_path / "again.json")

    # then
    first_statuses = {name: status for name, status, *_ in _answers(first)}
    differing = {
        name: (status, json.loads(body)["error"]["type"])
        for name, status, body, _ in _answers(second)
        if status != first_statuses[name]
    }
    assert differing == SECOND_RUN
    assert again.returncode == 0, again.stdout[-5000:]


# The same situation asked of the gateway (its own answer) and of a service directly: (method, gateway
# path, service, service path, headers, body).
BIG_BODY = b'{"name": "' + b"x" * (1024 * 1024 + 1) + b'"}'
SAME_SITUATION = {
    "no token": ("GET", "/api/customers", "contact", "/customers", {}, None),
    "other scheme": ("GET", "/api/items", "inventory", "/items", {"Authorization": "Basic YWRtaW46YWRtaW4="}, None),
    "bad token": ("GET", "/api/sales/orders", "sales", "/orders", {"Authorization": "Bearer not-a-jwt"}, None),
    "unknown path": ("GET", "/api/no-such-thing", "auth", "/no-such-thing", {}, None),
    "method not allowed": ("POST", "/health", "purchase", "/health/ready", {}, b"{}"),
    "body too large": ("POST", "/api/customers", "contact", "/customers", {}, BIG_BODY),
}


@pytest.mark.parametrize("situation", SAME_SITUATION)
def test_the_gateways_own_error_is_a_services_answer_to_the_same_request(compat, situation):
    # given
    platform, _, _ = compat
    method, gateway_path, service, service_path, headers, body = SAME_SITUATION[situation]

    # when
    at_gateway = _http(_port(platform, "gateway"), method, gateway_path, body, raw=True, **headers)
    at_service = _http(_port(platform, service), method, service_path, body, raw=True, **headers)

    # then the same status and the same bytes
    assert at_gateway[0] >= 400
    assert (at_gateway[0], at_gateway[2]) == (at_service[0], at_service[2])
    assert at_gateway[1].getheader("Content-Type") == at_service[1].getheader("Content-Type") == "application/json"
