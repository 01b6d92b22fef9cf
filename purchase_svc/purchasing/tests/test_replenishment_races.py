"""Competing consumers of low-stock events (PostgreSQL, threads): one draft per vendor, no line ordered twice."""

from __future__ import annotations

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from common.events import registry
from common.exceptions import Conflict
from erp_testkit.concurrency import race_between
from erp_testkit.events import deliver
from purchasing import replenishment, vendor_items
from purchasing.models import PurchaseOrder, VendorItem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    assert connection.vendor == "postgresql", "race tests need PostgreSQL row locks (set ERP_POSTGRES_URL)"


@pytest.fixture
def vendor_item(services, vendor_id, as_admin):
    def make(sku: str) -> dict:
        body = {
            "vendor_id": vendor_id,
            "item_id": services.add_item(sku=sku),
            "unit_cost": "1.50",
            "pack_size": 6,
            "min_order_quantity": 6,
            "preferred": True,
        }
        return as_admin.post("/vendor-items", body, format="json").json()["data"]

    return make


def low(vi: dict, *, quantity: int, version: int):
    """A consumer applying ``inventory.stock.low`` v2 through its inbox, under a new event id."""
    data = {
        "item_id": vi["item_id"],
        "sku": vi["sku"],
        "quantity": quantity,
        "backordered": 0,
        "reorder_level": 5,
        "max_level": 20,
    }
    return lambda: deliver(registry.STOCK_LOW_V2, data, event_id=uuid.uuid4(), aggregate_version=version)


def lines_by_draft() -> list[list[tuple[str, int]]]:
    orders = PurchaseOrder.objects.filter(origin="replenishment").prefetch_related("lines")
    return [[(line.sku, line.quantity) for line in order.lines.all()] for order in orders]


def test_two_items_of_one_vendor_going_low_at_once_end_in_one_draft(monkeypatch, vendor_item):
    # given
    bolts, nuts = vendor_item("BOLT-6"), vendor_item("NUT-6")

    # when: the first consumer holds the new draft uncommitted while the second wants one for the same vendor
    first, second = race_between(
        monkeypatch,
        replenishment,
        hold="_line_add",
        first=low(bolts, quantity=4, version=2),
        second=low(nuts, quantity=4, version=2),
    )

    # then: the second waited for the first's draft and added its line to it
    assert (first.error, second.error) == (None, None)
    assert lines_by_draft() == [[("BOLT-6", 18), ("NUT-6", 18)]]
    assert PurchaseOrder.objects.get().total_amount == Decimal("54.00")
    out = StringIO()
    call_command("check_replenishment", stdout=out)
    assert out.getvalue().strip() == "replenishment: 1 open draft(s) checked, one per vendor, all consistent"


def test_one_event_published_twice_and_applied_by_two_consumers_at_once_orders_once(monkeypatch, vendor_item):
    # given
    bolts = vendor_item("BOLT-6")

    # when: both copies are applied at once (the second waits on the item's row, then finds the line on order)
    first, second = race_between(
        monkeypatch,
        replenishment,
        hold="_line_add",
        first=low(bolts, quantity=4, version=2),
        second=low(bolts, quantity=4, version=2),
    )

    # then
    assert (first.error, second.error) == (None, None)
    assert lines_by_draft() == [[("BOLT-6", 18)]]


def test_an_older_event_racing_a_newer_one_orders_from_the_newer_figures(monkeypatch, vendor_item):
    # given
    bolts = vendor_item("BOLT-6")

    # when: the newer figures (1 on hand: 19 needed, 24 in packs) are applied while the older (4 on hand) wait
    first, second = race_between(
        monkeypatch,
        replenishment,
        hold="_line_add",
        first=low(bolts, quantity=1, version=3),
        second=low(bolts, quantity=4, version=2),
    )

    # then
    assert (first.error, second.error) == (None, None)
    assert lines_by_draft() == [[("BOLT-6", 24)]]


def test_two_vendor_items_of_one_item_made_preferred_at_once_leave_one_preferred(monkeypatch, services, vendor_id):
    # given: two vendor items of one item, neither preferred
    item_id = uuid.UUID(services.add_item(sku="BOLT-6"))
    first_vi, second_vi = (
        vendor_items.vendor_item_create(vendor_id=uuid.UUID(vendor), item_id=item_id, unit_cost=Decimal("1.50"))
        for vendor in (vendor_id, services.add_contact("vendors", "Contoso"))
    )

    # when: both are made preferred at once, the first held uncommitted inside its save
    first, second = race_between(
        monkeypatch,
        vendor_items,
        hold="_save",
        first=lambda: vendor_items.vendor_item_update(vendor_item_id=first_vi.id, data={"preferred": True}),
        second=lambda: vendor_items.vendor_item_update(vendor_item_id=second_vi.id, data={"preferred": True}),
    )

    # then: the second is the contract's 409 naming preferred, never a 500; one preferred, the first
    assert first.error is None
    assert isinstance(second.error, Conflict)
    assert second.error.details == [
        {"field": "preferred", "message": "Another vendor item of this item was made preferred meanwhile."}
    ]
    assert list(VendorItem.objects.filter(preferred=True).values_list("id", flat=True)) == [first_vi.id]
