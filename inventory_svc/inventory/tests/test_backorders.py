"""Backorders: a backorder-allowed order ships what is on hand, the rest waits, filled first come first served.

Also run on SQLite (marker ``sqlite``: scripts/test.sh's ``inventory_svc:sqlite`` lane), the local run's default.
"""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from common.events import registry
from common.events.models import OutboxEvent
from common.exceptions import Conflict
from erp_testkit.events import deliver
from inventory.lines import StockLine
from inventory.models import Backorder, IssueOutcome, MovementReason, Stock, StockMovement
from inventory.services import (
    item_delete,
    stock_adjust,
    stock_issue_for_order,
    stock_receive_for_receipt,
    stock_return_for_order,
)

from .conftest import confirm_allowing_backorder, ledger_total, on_hand

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def receive(item, quantity):
    return stock_receive_for_receipt(
        order_id=uuid.uuid4(), receipt_id=uuid.uuid4(), lines=[StockLine(item_id=item.pk, quantity=quantity)], actor="p"
    )


def backordered(item) -> int:
    return Stock.objects.get(item_id=item.pk).backordered


def figures(order_id) -> dict:
    """The order's last event (type, aggregate version, items) as sales would see it."""
    envelopes = [json.loads(row.payload) for row in OutboxEvent.objects.filter(aggregate_id=str(order_id))]
    last = max(envelopes, key=lambda envelope: envelope["aggregate_version"])
    return (last["event_type"], last["aggregate_version"], last["data"]["items"])


def progress(item, issued, waiting):
    return {"item_id": str(item.pk), "quantity_issued": issued, "quantity_backordered": waiting}


def sales_export(*orders) -> str:
    """What sales_svc's check_backorders --export would write for ``orders`` of one item each."""
    rows = [
        {
            "order_id": str(order_id),
            "status": "Confirmed",
            "stock_status": stock_status,
            "items": [{"item_id": str(item.pk), "ordered": ordered, "issued": issued, "backordered": waiting}],
        }
        for order_id, stock_status, item, ordered, issued, waiting in orders
    ]
    return json.dumps({"orders": rows})


def test_ten_ordered_with_six_on_hand_issues_six_and_backorders_four(make_item):
    # given
    item = make_item(stock=6)
    order = uuid.uuid4()

    # when
    outcome = confirm_allowing_backorder(order, (item, 10))

    # then
    assert outcome == IssueOutcome.BACKORDERED
    assert (on_hand(item), backordered(item), ledger_total(item)) == (0, 4, 0)
    issue = StockMovement.objects.get(reference=order)
    assert (issue.change, issue.reason, issue.fill) == (-6, MovementReason.SALES_ISSUE, None)
    assert figures(order) == ("inventory.stock.backordered", 1, [progress(item, 6, 4)])


def test_a_receipt_of_three_fills_three_and_leaves_one_backordered(make_item):
    # given
    item = make_item(stock=6)
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 10))

    # when
    receive(item, 3)

    # then
    assert (on_hand(item), backordered(item), ledger_total(item)) == (0, 1, 0)
    fill = StockMovement.objects.get(reference=order, fill__isnull=False)
    assert (fill.change, fill.reason, fill.fill) == (-3, MovementReason.SALES_ISSUE, 1)
    assert figures(order) == ("inventory.stock.filled", 2, [progress(item, 9, 1)])


def test_the_last_unit_filled_reports_nothing_backordered_and_leaves_the_rest_on_hand(make_item):
    # given
    item = make_item(stock=6)
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 10))

    # when
    stock_adjust(changes={item.pk: 7}, actor="stocktake")

    # then
    assert (on_hand(item), backordered(item), ledger_total(item)) == (3, 0, 3)
    assert figures(order) == ("inventory.stock.filled", 2, [progress(item, 10, 0)])


def test_two_waiting_orders_are_filled_earliest_confirmed_first_whatever_order_they_arrived_in(make_item):
    # given: the later confirmation arrives first
    item = make_item()
    early, late = uuid.uuid4(), uuid.uuid4()
    confirm_allowing_backorder(late, (item, 4), minutes=5)
    confirm_allowing_backorder(early, (item, 4), minutes=1)

    # when
    receive(item, 6)

    # then
    assert figures(early) == ("inventory.stock.filled", 2, [progress(item, 4, 0)])
    assert figures(late) == ("inventory.stock.filled", 2, [progress(item, 2, 2)])
    assert (on_hand(item), backordered(item)) == (0, 2)


def test_a_receipt_filling_several_orders_lists_its_fills_in_the_order_they_were_made(make_item):
    # given: three orders waiting for one item
    item = make_item()
    orders = [uuid.uuid4() for _ in range(3)]
    for minutes, order_id in enumerate(orders, start=1):
        confirm_allowing_backorder(order_id, (item, 2), minutes=minutes)

    # when: one receipt fills them all, in one transaction
    receive(item, 6)

    # then: the item's ledger, as its movements list reads it (newest first), runs down from the receipt
    ledger = StockMovement.objects.filter(item_id=item.pk).order_by("-created_at", "-id")
    assert [(m.reference, m.change, m.quantity_after) for m in ledger][:3] == [
        (orders[2], -2, 0),
        (orders[1], -2, 2),
        (orders[0], -2, 4),
    ]


def test_a_new_confirmation_never_overtakes_an_order_already_waiting(make_item):
    # given: an order waits; nothing is on hand
    item = make_item(stock=2)
    waiting, newcomer = uuid.uuid4(), uuid.uuid4()
    confirm_allowing_backorder(waiting, (item, 5))

    # when
    confirm_allowing_backorder(newcomer, (item, 1), minutes=1)
    receive(item, 3)

    # then: the receipt went to the first order in line
    assert figures(waiting) == ("inventory.stock.filled", 2, [progress(item, 5, 0)])
    assert figures(newcomer) == ("inventory.stock.backordered", 1, [progress(item, 0, 1)])


def test_a_cancellations_given_back_stock_fills_the_next_waiting_order(make_item):
    # given: the first order got 6, the second waits for 3
    item = make_item(stock=6)
    first, second = uuid.uuid4(), uuid.uuid4()
    confirm_allowing_backorder(first, (item, 8), minutes=0)
    confirm_allowing_backorder(second, (item, 3), minutes=1)

    # when
    stock_return_for_order(order_id=first, actor="sales")

    # then: 6 back, 3 to the second, 3 left on hand, the first's 2 dropped
    assert (on_hand(item), backordered(item), ledger_total(item)) == (3, 0, 3)
    assert figures(first) == (
        "inventory.stock.returned",
        2,
        [{"item_id": str(item.pk), "quantity": 6, "quantity_after": 6}],
    )
    assert figures(second) == ("inventory.stock.filled", 2, [progress(item, 3, 0)])
    dropped = Backorder.objects.get(order_id=first)
    assert (dropped.quantity_open, dropped.quantity_dropped) == (0, 2)


def test_cancelling_an_order_that_only_waited_drops_it_and_says_so_once(make_item):
    # given
    item = make_item()
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 4))

    # when
    first = stock_return_for_order(order_id=order, actor="sales")
    again = stock_return_for_order(order_id=order, actor="sales")

    # then
    assert (first, again) == ([], [])
    assert backordered(item) == 0
    assert figures(order) == ("inventory.stock.returned", 2, [])
    assert OutboxEvent.objects.filter(event_type="inventory.stock.returned").count() == 1


def test_a_cancelled_order_is_given_back_once_including_its_fills(make_item):
    # given: 2 issued at confirmation, 3 filled later
    item = make_item(stock=2)
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 5))
    receive(item, 3)

    # when
    stock_return_for_order(order_id=order, actor="sales")
    stock_return_for_order(order_id=order, actor="sales")

    # then
    back = StockMovement.objects.get(reference=order, reason=MovementReason.SALES_CANCELLATION)
    assert back.change == 5
    assert (on_hand(item), ledger_total(item)) == (5, 5)
    assert figures(order)[:2] == ("inventory.stock.returned", 3)


def test_a_redelivered_confirmation_under_another_event_id_changes_nothing(make_item):
    # given
    item = make_item(stock=1)
    order = uuid.uuid4()
    data = registry.SalesOrderConfirmedV2Data(
        order_id=order,
        customer_id=uuid.uuid4(),
        total_amount=0,
        allow_backorder=True,
        items=(registry.OrderLine(item_id=item.pk, quantity=3, unit_price=0, subtotal=0),),
    )
    deliver(registry.SALES_ORDER_CONFIRMED_V2, data)

    # when
    deliver(registry.SALES_ORDER_CONFIRMED_V2, data)

    # then
    assert (on_hand(item), backordered(item)) == (0, 2)
    assert Backorder.objects.get().quantity == 2
    assert OutboxEvent.objects.filter(aggregate_id=str(order)).count() == 1


def test_a_confirmation_v2_without_backorders_is_all_or_nothing_as_before(make_item):
    # given
    item = make_item(stock=1)
    order = uuid.uuid4()
    data = registry.SalesOrderConfirmedV2Data(
        order_id=order,
        customer_id=uuid.uuid4(),
        total_amount=0,
        allow_backorder=False,
        items=(registry.OrderLine(item_id=item.pk, quantity=3, unit_price=0, subtotal=0),),
    )

    # when
    deliver(registry.SALES_ORDER_CONFIRMED_V2, data)

    # then
    assert (on_hand(item), backordered(item)) == (1, 0)
    assert not Backorder.objects.exists()
    assert figures(order)[:2] == ("inventory.stock.shortage", 1)


def test_deleting_an_item_orders_wait_for_is_409_and_changes_nothing(make_item):
    # given: never stocked, so no ledger yet
    item = make_item()
    confirm_allowing_backorder(uuid.uuid4(), (item, 2))

    # when
    with pytest.raises(Conflict) as caught:
        item_delete(item=item)

    # then
    assert caught.value.details[0]["field"] == "backordered"
    assert backordered(item) == 2


@pytest.fixture
def export_file(tmp_path):
    """Write ``text`` where the operator's two commands exchange it, and return the path."""

    def write(text: str) -> str:
        path = tmp_path / "orders.json"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_check_backorders_passes_when_sales_and_inventory_agree(make_item, export_file):
    # given
    item = make_item(stock=6)
    waiting, short = uuid.uuid4(), uuid.uuid4()
    confirm_allowing_backorder(waiting, (item, 10))
    receive(item, 3)
    stock_issue_for_order(order_id=short, lines=[StockLine(item_id=item.pk, quantity=1)], actor="sales")
    out = StringIO()

    # when
    path = export_file(sales_export((waiting, "backordered", item, 10, 9, 1), (short, "short", item, 1, 0, 0)))
    call_command("check_backorders", path, stdout=out)

    # then
    assert out.getvalue() == "backorders: 2 confirmed order(s) checked, inventory and sales agree\n"


@pytest.mark.parametrize(
    ("export", "tamper", "expected"),
    [
        (("backordered", 10, 6, 4), None, "sales shows 6 issued, the ledger 9"),
        (("backordered", 10, 9, 1), "counter", "backordered 5, open backorders 1"),
        (("backordered", 12, 9, 1), None, "ordered 12, but issued 9 + backordered 1 + dropped 0"),
        (("pending", 10, 0, 0), None, "pending at sales, decided at inventory"),
    ],
    ids=["sales-behind", "counter-changed", "ordered-differs", "answer-not-applied"],
)
def test_check_backorders_prints_each_difference(make_item, export_file, export, tamper, expected):
    # given
    item = make_item(stock=6)
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 10))
    receive(item, 3)
    if tamper == "counter":
        Stock.objects.filter(item_id=item.pk).update(backordered=5)
    err = StringIO()

    # when
    path = export_file(sales_export((order, export[0], item, *export[1:])))
    with pytest.raises(CommandError):
        call_command("check_backorders", path, stdout=StringIO(), stderr=err)

    # then
    assert expected in err.getvalue()


def test_check_backorders_names_an_order_sales_does_not_know(make_item, export_file):
    # given
    item = make_item(stock=1)
    order = uuid.uuid4()
    confirm_allowing_backorder(order, (item, 1))
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("check_backorders", export_file(sales_export()), stdout=StringIO(), stderr=err)

    # then
    assert f"order {order} item {item.pk}: in inventory's ledger or backorders, unknown to sales" in err.getvalue()


def test_an_order_whose_wait_would_overflow_the_items_backordered_count_is_short_and_changes_nothing(make_item):
    # given: 21 orders wait for 100,000,000 each (100 lines of 1,000,000: the most sales lets one order ask)
    item = make_item()
    largest_order = [(item, 1_000_000)] * 100
    for minute in range(21):
        confirm_allowing_backorder(uuid.uuid4(), *largest_order, minutes=minute)
    assert backordered(item) == 2_100_000_000
    latecomer = uuid.uuid4()

    # when: one more, whose wait would take the count past what the column holds (2**31 - 1)
    outcome = confirm_allowing_backorder(latecomer, *largest_order, minutes=30)

    # then: decided short (sales can settle and cancel it) instead of failing the handler for good (the order
    # pending at sales forever, which cannot be cancelled), and nothing waits for it
    assert outcome == IssueOutcome.SHORT
    assert figures(latecomer) == (
        "inventory.stock.shortage",
        1,
        [{"item_id": str(item.pk), "requested": 100_000_000, "available": 0}],
    )
    assert (on_hand(item), backordered(item)) == (0, 2_100_000_000)
    assert not Backorder.objects.filter(order_id=latecomer).exists()


def _low_events() -> list[dict]:
    rows = OutboxEvent.objects.filter(event_type=registry.STOCK_LOW_V2.name).order_by("id")
    return [json.loads(row.payload)["data"] for row in rows]


def test_a_backorder_that_takes_the_item_to_its_reorder_level_announces_it_low_once_with_what_waits(make_item):
    # given: 6 on hand, reorder level 5, max level 20
    item = make_item(stock=6, reorder_level=5, max_level=20, sku="LOW-BO")

    # when: a backorder-allowed order of 10 issues the 6 and backorders 4
    confirm_allowing_backorder(uuid.uuid4(), (item, 10))

    # then: one stock.low, with on hand 0 and the 4 waiting
    assert [(row["quantity"], row["backordered"], row["max_level"]) for row in _low_events()] == [(0, 4, 20)]


def test_a_backorder_of_an_item_already_low_announces_it_low_again(make_item):
    # given: nothing on hand (already at its reorder level 5) and an order waiting for 2
    item = make_item(reorder_level=5, max_level=20)
    confirm_allowing_backorder(uuid.uuid4(), (item, 2))

    # when: another order waits for 3 more
    confirm_allowing_backorder(uuid.uuid4(), (item, 3), minutes=1)

    # then: each backorder announced the item low, with what waits in all, under a growing stock version
    assert [(row["quantity"], row["backordered"]) for row in _low_events()] == [(0, 2), (0, 5)]
    versions = list(
        OutboxEvent.objects.filter(event_type=registry.STOCK_LOW_V2.name)
        .order_by("id")
        .values_list("payload", flat=True)
    )
    assert [json.loads(payload)["aggregate_version"] for payload in versions] == [1, 2]
