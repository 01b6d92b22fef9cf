"""The brief's whole workflow through the gateway, against the real processes of the local run.

vendor -> item -> purchase order -> receive -> stock up -> customer -> sales order ->
confirm -> stock down -> pay both, and a cancelled sales order whose stock comes back;
the ledger adds up afterwards. Once on the embedded default (SQLite, filesystem
broker), once on PostgreSQL + RabbitMQ, and once more there with two relays and two
consumers per service (``ERP_WORKER_REPLICAS=2``: relays sharing the outbox, consumers
competing on one queue): the session's platforms, shared with the other platform tests, so
every record is made here under a tag of its own. Events travel asynchronously: the test polls
(bounded) for what the consumers settle.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_local_run import FM_USER, IM_USER, _call, _login, _manage, eventually


@pytest.fixture(
    scope="module",
    params=["embedded", "postgres", "replicated"],
    ids=["embedded", "postgres+rabbitmq", "postgres+rabbitmq,2-worker-replicas"],
)
def platform(request, platforms):
    """The session's platform of each flavour (tests/platforms.py): every test here runs on each."""
    running = platforms.get(request.param)
    if request.param == "replicated":
        # two of each worker really run: their start lines in the supervisor's log
        log = running["log"].read_text()
        for worker in ("contact-relay", "inventory-relay", "inventory-consumer", "sales-consumer"):
            assert f"{worker}-1 " in log and f"{worker}-2 " in log, worker
    return running


def _clients(platform):
    """Return the API root, an inventory and a finance manager's tokens, and ``call`` (asserts the status)."""
    api = f"{platform['gateway']}/api"
    im = _login(platform["gateway"], *IM_USER)
    fm = _login(platform["gateway"], *FM_USER)

    def call(method, path, body=None, token=fm, expected=200):
        status, answer = _call(method, f"{api}{path}", body, token)
        assert status == expected, (method, path, status, answer)
        return answer.get("data")

    return api, im, fm, call


def test_purchase_receive_sell_confirm_pay_and_cancel(platform):
    api, im, fm, call = _clients(platform)
    tag = uuid.uuid4().hex[:8]

    def stock(item_id) -> int:
        return call("GET", f"/items/{item_id}/stock")["quantity"]

    # given a vendor and an item with no stock
    vendor = call("POST", "/vendors", {"name": f"Vendor {tag}", "email": f"v-{tag}@example.com"}, im, 201)
    item = call("POST", "/items", {"sku": f"wf-{tag}", "name": "Workflow widget", "unit_price": 19.99}, im, 201)
    assert stock(item["id"]) == 0

    # when a purchase order for 10 at an agreed 12.50 is created and received
    purchase = call(
        "POST",
        "/purchase/orders",
        {"vendor_id": vendor["id"], "items": [{"item_id": item["id"], "quantity": 10, "unit_price": 12.50}]},
        im,
        201,
    )
    assert (purchase["vendor_name"], purchase["status"], purchase["total_amount"]) == (f"Vendor {tag}", "Draft", 125.0)
    assert call("POST", f"/purchase/orders/{purchase['id']}/receive", token=im)["status"] == "Received"

    # then the stock goes up
    eventually(lambda: stock(item["id"]), lambda quantity: quantity == 10, "stock after the reception")

    # when a customer orders 7 at the item's price and finance confirms
    customer = call("POST", "/customers", {"name": f"Customer {tag}", "email": f"c-{tag}@example.com"}, im, 201)
    sale = call(
        "POST",
        "/sales/orders",
        {"customer_id": customer["id"], "items": [{"item_id": item["id"], "quantity": 7}]},
        im,
        201,
    )
    assert (sale["items"][0]["unit_price"], sale["total_amount"]) == (19.99, 139.93)
    confirmed = call("POST", f"/sales/orders/{sale['id']}/confirm")
    assert (confirmed["status"], confirmed["stock_status"]) == ("Confirmed", "pending")

    # then the stock goes down and the order learns it was issued
    eventually(lambda: stock(item["id"]), lambda quantity: quantity == 3, "stock after the confirmation")
    eventually(lambda: call("GET", f"/sales/orders/{sale['id']}")["stock_status"], "issued".__eq__, "stock_status")

    # when both orders are paid
    assert call("POST", f"/sales/orders/{sale['id']}/pay")["status"] == "Paid"
    assert call("POST", f"/purchase/orders/{purchase['id']}/pay")["status"] == "Paid"

    # and a second sale of 2 is confirmed, issued, then cancelled
    second = call(
        "POST",
        "/sales/orders",
        {"customer_id": customer["id"], "items": [{"item_id": item["id"], "quantity": 2}]},
        fm,
        201,
    )
    call("POST", f"/sales/orders/{second['id']}/confirm")
    eventually(lambda: call("GET", f"/sales/orders/{second['id']}")["stock_status"], "issued".__eq__, "second issue")
    assert stock(item["id"]) == 1
    assert call("POST", f"/sales/orders/{second['id']}/cancel")["status"] == "Cancelled"

    # then its stock comes back, once, and the ledger adds up to the stock on hand
    eventually(lambda: call("GET", f"/sales/orders/{second['id']}")["stock_status"], "returned".__eq__, "return")
    assert stock(item["id"]) == 3
    movements = call("GET", f"/items/{item['id']}/movements?limit=100")
    assert sorted((m["reason"], m["change"]) for m in movements) == [
        ("purchase_receipt", 10),
        ("sales_cancellation", 2),
        ("sales_issue", -7),
        ("sales_issue", -2),
    ]
    assert sum(m["change"] for m in movements) == stock(item["id"])

    # and refused transitions answer 409 naming the status, in the envelope, through the gateway
    status, refused = _call("POST", f"{api}/sales/orders/{sale['id']}/cancel", None, fm)
    assert status == 409
    assert refused["error"]["details"] == [{"field": "status", "message": "order is Paid, expected Confirmed or Draft"}]


def test_confirm_with_too_little_stock_is_409_through_the_gateway(platform):
    api = f"{platform['gateway']}/api"
    fm = _login(platform["gateway"], *FM_USER)
    tag = uuid.uuid4().hex[:8]
    _, customer = _call("POST", f"{api}/customers", {"name": f"Short {tag}", "email": f"s-{tag}@example.com"}, fm)
    _, item = _call("POST", f"{api}/items", {"sku": f"short-{tag}", "name": "Scarce", "unit_price": 1}, fm)
    status, sale = _call(
        "POST",
        f"{api}/sales/orders",
        {"customer_id": customer["data"]["id"], "items": [{"item_id": item["data"]["id"], "quantity": 1}]},
        fm,
    )
    assert status == 201, sale

    status, refused = _call("POST", f"{api}/sales/orders/{sale['data']['id']}/confirm", None, fm)

    assert status == 409
    item_id = item["data"]["id"]
    assert refused["error"]["details"] == [
        {
            "field": "items.0.quantity",
            "message": f"item {item_id}: requested 1, available 0",
            "item_id": item_id,
            "requested": 1,
            "available": 0,
        }
    ]
    _, again = _call("GET", f"{api}/sales/orders/{sale['data']['id']}", None, fm)
    assert again["data"]["status"] == "Draft"


def test_thirty_concurrent_confirms_against_ten_units_issue_exactly_ten(platform):
    api, im, fm, call = _clients(platform)
    tag = uuid.uuid4().hex[:8]

    # given 10 units on hand (a received purchase) and 30 draft sales orders of 1 unit each
    vendor = call("POST", "/vendors", {"name": f"Vendor {tag}", "email": f"cv-{tag}@example.com"}, im, 201)
    item = call("POST", "/items", {"sku": f"race-{tag}", "name": "Contended", "unit_price": 5}, im, 201)
    lines = [{"item_id": item["id"], "quantity": 10}]
    purchase = call("POST", "/purchase/orders", {"vendor_id": vendor["id"], "items": lines}, im, 201)
    call("POST", f"/purchase/orders/{purchase['id']}/receive", token=im)
    eventually(lambda: call("GET", f"/items/{item['id']}/stock")["quantity"], (10).__eq__, "stock after the reception")
    customer = call("POST", "/customers", {"name": f"Racer {tag}", "email": f"cr-{tag}@example.com"}, im, 201)
    orders = [
        call(
            "POST",
            "/sales/orders",
            {"customer_id": customer["id"], "items": [{"item_id": item["id"], "quantity": 1}]},
            im,
            201,
        )["id"]
        for _ in range(30)
    ]

    # when finance confirms all 30 at once
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda order: _call("POST", f"{api}/sales/orders/{order}/confirm", None, fm), orders))

    # then each is confirmed, or refused for want of stock once the others took it
    assert {status for status, _ in answers} <= {200, 409}, answers
    confirmed = [order for order, (status, _) in zip(orders, answers, strict=True) if status == 200]
    assert len(confirmed) >= 10
    # and inventory issues exactly the 10 units: every other confirmed order is short, none is issued twice
    settled = eventually(
        lambda: [call("GET", f"/sales/orders/{order}")["stock_status"] for order in confirmed],
        lambda statuses: "pending" not in statuses,
        "stock_status of the confirmed orders",
    )
    assert (settled.count("issued"), settled.count("short")) == (10, len(confirmed) - 10)
    assert call("GET", f"/items/{item['id']}/stock")["quantity"] == 0
    movements = call("GET", f"/items/{item['id']}/movements?limit=100")
    assert (
        sorted((m["reason"], m["change"]) for m in movements) == [("purchase_receipt", 10)] + [("sales_issue", -1)] * 10
    )
    # and the ledger check of the whole inventory is clean
    ledger = _manage(platform, "inventory", "check_stock_ledger")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert "all equal to their ledger" in ledger.stdout
