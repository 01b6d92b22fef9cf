"""``check_purchase_receipts``: received equals the sum of the receipt lines; ``--export`` for inventory's check."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseReceipt

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_it_passes_and_exports_each_receipt_per_item(services, draft, as_im, tmp_path):
    # given: two receipts, one of them with two lines of the same item
    bolt, nut = services.add_item(), services.add_item()
    order = draft([(bolt, 3), (bolt, 7), (nut, 5)])
    as_im.post(f"/orders/{order['id']}/receipts", {"items": [{"item_id": nut, "quantity": 2}]}, format="json")
    as_im.post(f"/orders/{order['id']}/receive")
    first, second = PurchaseReceipt.objects.order_by("created_at", "id")
    out, export = StringIO(), tmp_path / "receipts.json"

    # when
    call_command("check_purchase_receipts", "--export", str(export), stdout=out)

    # then
    assert out.getvalue() == "purchase receipts: 3 line(s) checked, all equal to their receipts\n"
    rows = json.loads(export.read_text())["receipts"]
    assert sorted((row["receipt_id"], row["item_id"], row["quantity"]) for row in rows) == sorted(
        [(str(first.id), nut, 2), (str(second.id), bolt, 10), (str(second.id), nut, 3)]
    )
    assert {row["order_id"] for row in rows} == {order["id"]}


def test_it_catches_a_line_changed_behind_the_services_back(services, draft, as_im):
    # given
    bolt = services.add_item()
    order = draft([(bolt, 10)])
    as_im.post(f"/orders/{order['id']}/receipts", {"items": [{"item_id": bolt, "quantity": 4}]}, format="json")
    line = PurchaseOrderLine.objects.get()
    PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity_received=6)
    err = StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("check_purchase_receipts", stdout=StringIO(), stderr=err)

    # then
    assert str(caught.value) == "1 line(s) differ from their receipts."
    assert err.getvalue() == (
        f"order {order['id']} line {line.pk} (item {bolt}): received 6, receipts 4, difference +2\n"
    )


@pytest.mark.parametrize(
    ("drift", "problem"),
    [
        ({"received_amount": Decimal("99.00")}, "received_amount 99.00, receipts 10.00"),
        ({"status": "Received"}, "still expects units but was not closed short"),
        ({"status": "Draft"}, "has receipts"),
        ({"closed_short": True}, "closed short"),
    ],
    ids=["amount", "received-but-open", "draft-with-receipts", "closed-short-but-open"],
)
def test_it_catches_an_order_changed_behind_the_services_back(services, draft, as_im, drift, problem):
    # given: 4 of 10 at 2.50 received, then the order changed by hand
    bolt = services.add_item(unit_price="2.50")
    order = draft([(bolt, 10)])
    as_im.post(f"/orders/{order['id']}/receipts", {"items": [{"item_id": bolt, "quantity": 4}]}, format="json")
    PurchaseOrder.objects.filter(pk=order["id"]).update(**drift)
    err = StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("check_purchase_receipts", stdout=StringIO(), stderr=err)

    # then: the order is named, the lines (which agree with their receipts) are not
    assert str(caught.value) == "1 order finding(s) differ from their receipts."
    status = drift.get("status", "PartiallyReceived")
    assert err.getvalue() == f"order {order['id']} ({status}): {problem}\n"


def test_a_partially_received_order_without_receipts_is_caught(services, draft):
    # given: a draft marked PartiallyReceived by hand
    order = draft([(services.add_item(), 10)])
    PurchaseOrder.objects.filter(pk=order["id"]).update(status="PartiallyReceived")
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("check_purchase_receipts", stdout=StringIO(), stderr=err)

    # then
    assert err.getvalue() == f"order {order['id']} (PartiallyReceived): has no receipt\n"


def test_it_passes_for_orders_in_every_status(services, draft, as_im, as_fm):
    # given: a draft, a cancelled draft, a partial, one received whole, one closed short and paid
    bolt = services.add_item(unit_price="0.35")
    orders = [draft([(bolt, 10)]) for _ in range(5)]
    as_fm.post(f"/orders/{orders[1]['id']}/cancel")
    for order in orders[2:]:
        as_im.post(f"/orders/{order['id']}/receipts", {"items": [{"item_id": bolt, "quantity": 3}]}, format="json")
    as_im.post(f"/orders/{orders[3]['id']}/receive")
    as_im.post(f"/orders/{orders[4]['id']}/close")
    as_fm.post(f"/orders/{orders[4]['id']}/pay")
    out = StringIO()

    # when
    call_command("check_purchase_receipts", stdout=out)

    # then
    assert sorted(PurchaseOrder.objects.values_list("status", flat=True)) == sorted(
        ["Draft", "Cancelled", "PartiallyReceived", "Received", "Paid"]
    )
    assert out.getvalue() == "purchase receipts: 5 line(s) checked, all equal to their receipts\n"
