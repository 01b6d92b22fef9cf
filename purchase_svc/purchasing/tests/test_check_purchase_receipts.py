"""``check_purchase_receipts``: received equals the sum of the receipt lines; ``--export`` for inventory's check."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from purchasing.models import PurchaseOrderLine, PurchaseReceipt

pytestmark = pytest.mark.django_db


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
