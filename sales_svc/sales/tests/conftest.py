"""Fixtures of the sales tests: the shared order fixtures (services faked at the HTTP edge) and a customer."""

from __future__ import annotations

import pytest

from common.orders.fixtures import *  # noqa: F403
from sales.models import SalesOrder


@pytest.fixture
def order_model():
    return SalesOrder


@pytest.fixture
def party_id(services):
    return services.add_contact("customers", "Acme Retail")


@pytest.fixture
def customer_id(party_id):
    return party_id


@pytest.fixture(scope="session")
def transition_permissions():
    return {"confirm": "sales.confirm", "pay": "orders.pay", "cancel": "sales.cancel"}
