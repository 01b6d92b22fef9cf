"""Fixtures of the purchase tests: a vendor and drafts (the test kit's order fixtures come from ../../conftest.py)."""

from __future__ import annotations

import pytest

from erp_testkit.orders import draft_create


@pytest.fixture
def vendor_id(services):
    return services.add_contact("vendors", "Northwind Components")


@pytest.fixture
def draft(services, vendor_id, as_admin):
    """Create a draft of ``vendor_id`` through the API: ``draft([(item_id, quantity), ...])`` returns its JSON."""
    return lambda lines: draft_create(as_admin, party={"vendor_id": vendor_id}, lines=lines)
