"""Migration 0005: an order received whole before receipts existed gets one receipt of everything, with its own id."""

from __future__ import annotations

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from erp_testkit.migrations import migrate_to, migrate_to_latest

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]

BEFORE, AFTER = [("purchasing", "0004_status_history")], [("purchasing", "0005_receipts")]


def test_orders_received_whole_get_one_receipt_named_by_the_order():
    # given: before receipts, a received order, a paid one and a draft
    apps = migrate_to(BEFORE)
    orders, lines = apps.get_model("purchasing", "PurchaseOrder"), apps.get_model("purchasing", "PurchaseOrderLine")
    made = {}
    for status in ("Received", "Paid", "Draft"):
        order = orders.objects.create(
            id=uuid.uuid4(),
            vendor_id=uuid.uuid4(),
            vendor_name="Vendor",
            status=status,
            total_amount=Decimal("7.50"),
            received_at=timezone.now() if status != "Draft" else None,
        )
        for position, quantity in enumerate((1, 2)):
            lines.objects.create(
                order=order,
                position=position,
                item_id=uuid.uuid4(),
                sku="S",
                name="N",
                quantity=quantity,
                unit_price=Decimal("2.50"),
                subtotal=Decimal("2.50") * quantity,
            )
        made[status] = order.id

    try:
        # when
        apps = migrate_to(AFTER)

        # then
        orders, receipts = (
            apps.get_model("purchasing", "PurchaseOrder"),
            apps.get_model("purchasing", "PurchaseReceipt"),
        )
        lines = apps.get_model("purchasing", "PurchaseOrderLine")
        assert sorted(receipts.objects.values_list("id", flat=True), key=str) == sorted(
            [made["Received"], made["Paid"]], key=str
        )
        for status in ("Received", "Paid"):
            receipt = receipts.objects.get(pk=made[status])
            assert receipt.order_id == made[status]
            assert sorted(receipt.lines.values_list("quantity", flat=True)) == [1, 2]
            assert orders.objects.get(pk=made[status]).received_amount == Decimal("7.50")
        assert sorted(lines.objects.filter(order_id=made["Received"]).values_list("quantity_received", flat=True)) == [
            1,
            2,
        ]
        assert list(lines.objects.filter(order_id=made["Draft"]).values_list("quantity_received", flat=True)) == [0, 0]
        assert orders.objects.get(pk=made["Draft"]).received_amount == Decimal("0.00")
    finally:
        migrate_to_latest()
    # and the receipts check finds every order as the services would have left it
    call_command("check_purchase_receipts", stdout=StringIO())
