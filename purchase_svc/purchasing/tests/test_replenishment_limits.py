"""Replenishment within an order's limits: a line never past MAX_QUANTITY or MAX_AMOUNT, a draft never past
MAX_LINES, whatever max level, pack size or unit cost the item and its vendor item were given."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from order_documents.lines import MAX_AMOUNT
from order_documents.models import MAX_LINES, MAX_QUANTITY
from purchasing.models import PurchaseOrder, PurchaseOrderLine, VendorItem
from purchasing.tests.test_replenishment import drafts

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_a_huge_max_level_orders_no_more_than_an_order_line_holds(vendor_item, low):
    # given: an item reordered up to the largest max level inventory accepts, in packs of 6
    vi = vendor_item(pack_size=6, min_order_quantity=6, unit_cost="0.01")

    # when: it falls to 0
    low(vi, quantity=0, max_level=2**31 - 1, version=2)

    # then: one line of the most whole packs an order line may hold (999,996 = 166,666 packs of 6)
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 999_996, Decimal("0.01"))])]

    # when: more is needed again (the figures of a newer version)
    low(vi, quantity=0, backordered=1_000_000, max_level=2**31 - 1, version=3)

    # then: the line stays within MAX_QUANTITY
    assert PurchaseOrderLine.objects.get().quantity <= MAX_QUANTITY
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 999_996, Decimal("0.01"))])]


def test_a_huge_unit_cost_orders_no_more_than_an_amount_holds(vendor_item, low):
    # given: a vendor item at the largest unit cost a money column holds
    vi = vendor_item(pack_size=1, min_order_quantity=1, unit_cost=str(MAX_AMOUNT))

    # when: 16 are needed
    low(vi, quantity=4, version=2)

    # then: one unit, the most whose subtotal and total are storable
    assert drafts() == [("Northwind Components", "Draft", [("BOLT-6", 1, MAX_AMOUNT)])]
    assert PurchaseOrder.objects.get().total_amount == MAX_AMOUNT


def test_a_draft_with_max_lines_gets_no_more_lines_but_its_lines_still_grow(vendor_item, low):
    # given: the vendor's replenishment draft already holds MAX_LINES lines, the first one of our item
    vi = vendor_item(pack_size=1, min_order_quantity=1)
    low(vi, quantity=4, version=2)
    draft = PurchaseOrder.objects.get()
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            order=draft,
            position=n,
            item_id=uuid.uuid4(),
            sku=f"X-{n}",
            name="x",
            quantity=1,
            unit_price=Decimal("0"),
            subtotal=Decimal("0"),
        )
        for n in range(1, MAX_LINES)
    )
    other = vendor_item(sku="NUT-8", pack_size=1, min_order_quantity=1)

    # when: another item of the vendor goes low, and ours needs more
    low(other, quantity=4, version=2)
    low(vi, quantity=0, version=3)

    # then: no 101st line; our line grew by 4
    assert draft.lines.count() == MAX_LINES
    assert not draft.lines.filter(sku="NUT-8").exists()
    assert draft.lines.get(sku="BOLT-6").quantity == 20
    assert VendorItem.objects.count() == 2
