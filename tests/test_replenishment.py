"""Replenishment across the real processes: the issue's worked example through the gateway, on every flavour.

An item with reorder level 5 and max level 20 whose preferred vendor item packs 6 (minimum 6)
at 1.50 falls from 10 to 4: inventory's ``inventory.stock.low`` reaches purchase_svc's consumer,
which raises one replenishment draft of 18 at 1.50. The stock rises and falls to 4 again while
that draft is open: still one draft of 18. Once the draft is received (the stock goes up by
18) and the item falls again, a new draft of 18 is raised. On the embedded platform, on
PostgreSQL + RabbitMQ, and with two competing consumers per service; ``check_replenishment``
finds nothing each time.
"""

from __future__ import annotations

import uuid

from test_local_run import _manage, eventually
from test_workflow import _clients, platform  # noqa: F401 (the flavours' fixture)

# The stock's version at inventory, and the newest one purchase applied a low-stock event of.
STOCK_VERSION = "from inventory.models import Stock; print(Stock.objects.get(item_id='{item}').version)"
VERSION_APPLIED = (
    "from purchasing.models import LowStockItem; "
    "print(LowStockItem.objects.filter(item_id='{item}').values_list('stock_version', flat=True).first())"
)


def test_the_worked_example_orders_18_once_and_again_after_the_receipt(platform):  # noqa: F811
    replenishment_worked_example(platform)


def replenishment_worked_example(platform: dict) -> None:  # noqa: F811
    """The scenario, on any running platform (test_replicas.py runs it with four consumers per service)."""
    _, im, _, call = _clients(platform)
    tag = uuid.uuid4().hex[:8]

    # given: the item, its vendor and the preferred vendor item, and 10 on hand
    body = {"sku": f"rp-{tag}", "name": "Hex bolt M6", "unit_price": 2, "reorder_level": 5, "max_level": 20}
    item = call("POST", "/items", body, im, 201)["id"]
    vendor = call("POST", "/vendors", {"name": f"Bolts {tag}", "email": f"rp-{tag}@example.com"}, im, 201)["id"]
    terms = {"unit_cost": 1.5, "pack_size": 6, "min_order_quantity": 6, "preferred": True}
    call("POST", "/purchase/vendor-items", {"vendor_id": vendor, "item_id": item, **terms}, im, 201)
    call("PUT", f"/items/{item}/stock", {"quantity": 10, "reason": "opening"}, im)

    def drafts() -> list[tuple[str, list[tuple[int, float]]]]:
        orders = call("GET", f"/purchase/orders?vendor_id={vendor}&origin=replenishment&ordering=created_at")
        return [
            (order["status"], [(line["quantity"], line["unit_price"]) for line in order["items"]]) for order in orders
        ]

    def shell(service: str, code: str) -> str:
        done = _manage(platform, service, "shell", "--no-imports", "-c", code.format(item=item))
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def newest_low_stock_applied() -> None:
        version = shell("inventory", STOCK_VERSION)
        eventually(lambda: shell("purchase", VERSION_APPLIED), lambda seen: seen == version, "the last low stock")

    # when: the stock falls from 10 to 4
    call("PUT", f"/items/{item}/stock", {"quantity": -6, "reason": "sold"}, im)

    # then: within a few seconds, one replenishment draft with one line of 18 at 1.50
    eventually(drafts, lambda seen: seen == [("Draft", [(18, 1.5)])], "the replenishment draft")

    # when: back up above 5 and down to 4 again while the draft is open
    call("PUT", f"/items/{item}/stock", {"quantity": 2, "reason": "found"}, im)
    call("PUT", f"/items/{item}/stock", {"quantity": -2, "reason": "sold"}, im)
    newest_low_stock_applied()

    # then: still one draft, still 18
    assert drafts() == [("Draft", [(18, 1.5)])]

    # when: the draft is received (22 on hand) and the stock falls to 4 again
    draft_id = call("GET", f"/purchase/orders?vendor_id={vendor}&origin=replenishment")[0]["id"]
    call("POST", f"/purchase/orders/{draft_id}/receive", None, im)
    eventually(lambda: call("GET", f"/items/{item}/stock")["quantity"], lambda seen: seen == 22, "the receipt")
    call("PUT", f"/items/{item}/stock", {"quantity": -18, "reason": "sold"}, im)

    # then: what was received is no longer on order: a new draft of 18
    eventually(drafts, lambda seen: seen == [("Received", [(18, 1.5)]), ("Draft", [(18, 1.5)])], "the second draft")
    checked = _manage(platform, "purchase", "check_replenishment")
    assert checked.returncode == 0, checked.stdout + checked.stderr
