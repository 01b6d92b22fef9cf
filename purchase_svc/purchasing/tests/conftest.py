"""Fixtures of the purchase tests: a vendor, drafts, vendor items and low-stock events (the test kit's order fixtures
come from ../../conftest.py)."""

from __future__ import annotations

import pytest

from common.events import registry
from erp_testkit.orders import draft_create


@pytest.fixture
def vendor_id(services):
    return services.add_contact("vendors", "Northwind Components")


@pytest.fixture
def draft(services, vendor_id, as_admin):
    """Create a draft of ``vendor_id`` through the API: ``draft([(item_id, quantity), ...])`` returns its JSON."""
    return lambda lines: draft_create(as_admin, party={"vendor_id": vendor_id}, lines=lines)


@pytest.fixture
def vendor_item(services, vendor_id, as_admin):
    """Create a preferred vendor item through the API: ``vendor_item(sku=...)`` returns its JSON."""

    def make(*, sku="BOLT-6", vendor=None, pack_size=6, min_order_quantity=6, unit_cost="1.50", preferred=True):
        body = {
            "vendor_id": vendor or vendor_id,
            "item_id": services.add_item(sku=sku, name=f"Item {sku}"),
            "unit_cost": unit_cost,
            "pack_size": pack_size,
            "min_order_quantity": min_order_quantity,
            "preferred": preferred,
        }
        response = as_admin.post("/vendor-items", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["data"]

    return make


@pytest.fixture
def low(deliver):
    """Deliver ``inventory.stock.low`` v2 for a vendor item's item (reorder level 5, max level 20 by default)."""

    def send(vi, *, quantity, version, backordered=0, reorder_level=5, max_level=20, event_id=None):
        data = {
            "item_id": vi["item_id"],
            "sku": vi["sku"],
            "quantity": quantity,
            "backordered": backordered,
            "reorder_level": reorder_level,
            "max_level": max_level,
        }
        return deliver(registry.STOCK_LOW_V2, data, aggregate_version=version, event_id=event_id)

    return send
