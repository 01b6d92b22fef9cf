"""Backorders across the real processes: randomized confirms, receipts, adjustments and cancels through the gateway.

Four clients at once over three items of their own: backorder-allowed (and some plain) sales
orders confirmed, purchase receipts arriving, stock adjusted up and down by hand, confirmed
orders cancelled once inventory has answered. On every flavour of the session's platforms:
the embedded one, PostgreSQL + RabbitMQ, and two competing consumers per service (events
reordered). Once everything has settled, the operators' checks run as an operator would run
them: sales_svc's ``check_backorders --export`` handed to inventory_svc's ``check_backorders``,
and ``check_stock_ledger``, all at 0 differences. (Consumers killed mid-event and redeliveries
are in inventory_svc's own randomized test, inventory/tests/test_backorder_races.py.)
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from test_local_run import _call, _manage, eventually
from test_workflow import _clients, platform  # noqa: F401 (the flavours' fixture)

ITEMS, ORDERS, RECEIPTS, ADJUSTMENTS, CLIENTS = 3, 18, 8, 6, 4


def test_randomized_backorder_traffic_leaves_sales_and_inventory_agreeing(platform, tmp_path):  # noqa: F811
    randomized_backorder_traffic(platform, tmp_path)


def randomized_backorder_traffic(platform: dict, tmp_path) -> None:  # noqa: F811
    """The scenario, on any running platform (test_replicas.py runs it with four consumers per service)."""
    api, im, fm, call = _clients(platform)
    tag = uuid.uuid4().hex[:8]
    seed = random.randrange(2**32)
    rng = random.Random(seed)

    # given three items with a little stock, a purchase order to receive from, and drafts of a customer
    items = [
        call("POST", "/items", {"sku": f"bo-{tag}-{n}", "name": f"Backordered {n}", "unit_price": 2}, im, 201)["id"]
        for n in range(ITEMS)
    ]
    for item in items:
        call("PUT", f"/items/{item}/stock", {"quantity": 4, "reason": "opening"}, im)
    vendor = call("POST", "/vendors", {"name": f"Vendor {tag}", "email": f"bv-{tag}@example.com"}, im, 201)
    purchase = call(
        "POST",
        "/purchase/orders",
        {"vendor_id": vendor["id"], "items": [{"item_id": item, "quantity": 1000} for item in items]},
        im,
        201,
    )
    customer = call("POST", "/customers", {"name": f"Waiter {tag}", "email": f"bw-{tag}@example.com"}, im, 201)
    orders = [
        call(
            "POST",
            "/sales/orders",
            {
                "customer_id": customer["id"],
                "allow_backorder": rng.random() < 0.8,
                "items": [
                    {"item_id": item, "quantity": rng.randint(1, 5)} for item in rng.sample(items, rng.randint(1, 2))
                ],
            },
            im,
            201,
        )["id"]
        for _ in range(ORDERS)
    ]
    work = [("confirm", order) for order in orders]
    work += [("receive", rng.choice(items), rng.randint(1, 6)) for _ in range(RECEIPTS)]
    work += [("adjust", rng.choice(items), rng.choice([-2, 3])) for _ in range(ADJUSTMENTS)]
    rng.shuffle(work)
    cancels = set(rng.sample(orders, ORDERS // 3))
    unexpected: list[tuple] = []
    lock = threading.Lock()

    def run(task) -> None:
        kind = task[0]
        if kind == "confirm":
            status, answer = _call("POST", f"{api}/sales/orders/{task[1]}/confirm", None, fm)
            if status not in (200, 409):  # 409: a plain order finding too little stock
                with lock:
                    unexpected.append((task, status, answer))
            if status == 200 and task[1] in cancels:
                cancel(task[1])
        elif kind == "receive":
            body = {"items": [{"item_id": task[1], "quantity": task[2]}]}
            status, answer = _call("POST", f"{api}/purchase/orders/{purchase['id']}/receipts", body, im)
            if status != 201:
                with lock:
                    unexpected.append((task, status, answer))
        else:
            body = {"quantity": task[2], "reason": "stocktake"}
            status, answer = _call("PUT", f"{api}/items/{task[1]}/stock", body, im)
            if status not in (200, 409):  # 409: taking away more than is on hand
                with lock:
                    unexpected.append((task, status, answer))

    def cancel(order: str) -> None:
        # sales refuses a cancel while pending: retried until inventory has answered
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, answer = _call("POST", f"{api}/sales/orders/{order}/cancel", None, fm)
            if status == 200:
                return
            time.sleep(0.2)
        with lock:
            unexpected.append(("cancel", order, status, answer))

    # when the four clients go at it together
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(run, work))

    # then: nothing refused that should not be, every confirmed order settles
    assert unexpected == [], f"seed {seed}"
    eventually(
        lambda: [call("GET", f"/sales/orders/{order}")["stock_status"] for order in orders],
        lambda statuses: "pending" not in statuses,
        f"seed {seed}: stock_status of the confirmed orders",
    )
    # and no item has stock on hand while an order waits for it
    for item in items:
        found = call("GET", f"/items/{item}")
        assert found["quantity"] == 0 or found["backordered"] == 0, (seed, found)
    # and the operators' checks find no difference once the last events are in
    export = tmp_path / "orders.json"

    def checks():
        sales = _manage(platform, "sales", "check_backorders", "--export", str(export))
        inventory = _manage(platform, "inventory", "check_backorders", str(export)) if sales.returncode == 0 else sales
        return sales, inventory

    _, inventory = eventually(
        checks, lambda pair: all(done.returncode == 0 for done in pair), f"seed {seed}: check_backorders"
    )
    assert "inventory and sales agree" in inventory.stdout
    ledger = _manage(platform, "inventory", "check_stock_ledger")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
