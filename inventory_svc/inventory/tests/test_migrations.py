"""Migration 0002: a purchase receipt moved before receipts existed names its order as its receipt."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from erp_testkit.migrations import migrate_to, migrate_to_latest

# Also run on SQLite (scripts/test.sh's sqlite lane), as the embedded local run keeps its data.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]

BEFORE, AFTER = [("inventory", "0001_initial")], [("inventory", "0002_movement_receipt")]


def test_earlier_purchase_receipts_are_receipts_named_by_their_order():
    # given: before receipts, an item received for an order, then adjusted
    apps = migrate_to(BEFORE)
    items, movements = apps.get_model("inventory", "Item"), apps.get_model("inventory", "StockMovement")
    item = items.objects.create(id=uuid.uuid4(), sku="OLD", name="Old", unit_price=1)
    order = uuid.uuid4()
    common = {"item": item, "actor": "test", "created_at": timezone.now()}
    movements.objects.create(change=5, quantity_after=5, reason="purchase_receipt", reference=order, **common)
    movements.objects.create(change=-1, quantity_after=4, reason="adjustment", reference=None, **common)

    try:
        # when
        apps = migrate_to(AFTER)

        # then
        movements = apps.get_model("inventory", "StockMovement")
        assert sorted(movements.objects.values_list("reason", "reference", "receipt_id")) == [
            ("adjustment", None, None),
            ("purchase_receipt", order, order),
        ]
    finally:
        migrate_to_latest()
