"""Fixtures of the sales tests: a customer and drafts (the test kit's order fixtures come from ../../conftest.py)."""

from __future__ import annotations

import pytest

from erp_testkit.orders import draft_create


@pytest.fixture
def customer_id(services):
    return services.add_contact("customers", "Acme Retail")


@pytest.fixture
def draft(services, customer_id, as_admin):
    """Create a draft of ``customer_id`` through the API: ``draft([(item_id, quantity), ...])`` returns its JSON."""
    return lambda lines: draft_create(as_admin, party={"customer_id": customer_id}, lines=lines)
