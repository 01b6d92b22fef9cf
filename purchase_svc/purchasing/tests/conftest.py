"""Fixtures of the purchase tests: the shared order fixtures (services faked at the HTTP edge) and a vendor."""

from __future__ import annotations

import pytest

from common.orders.fixtures import *  # noqa: F403
from purchasing.models import PurchaseOrder


@pytest.fixture
def order_model():
    return PurchaseOrder


@pytest.fixture
def party_id(services):
    return services.add_contact("vendors", "Northwind Components")


@pytest.fixture
def vendor_id(party_id):
    return party_id


@pytest.fixture(scope="session")
def transition_permissions():
    return {"receive": "purchase.receive", "pay": "orders.pay", "cancel": "purchase.cancel"}
