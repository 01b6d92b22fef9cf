"""Fixtures of the contacts tests: each test runs once per kind (customers, vendors)."""

from __future__ import annotations

import pytest

from common.events.models import OutboxEvent
from contacts.kinds import KINDS, ContactKind

# sales_svc and purchase_svc, asked before a contact is deleted (common.uses): faked for every test.
from erp_testkit.orders import fake_services, order_services  # noqa: F401

from .factories import FACTORIES


@pytest.fixture(params=KINDS, ids=lambda kind: kind.plural)
def kind(request) -> ContactKind:
    return request.param


@pytest.fixture
def make(kind):
    """Create contacts of the test's kind directly (bypassing services: no events)."""
    return FACTORIES[kind]


@pytest.fixture
def url(kind):
    def build(contact_id=None, suffix: str = "") -> str:
        base = f"/{kind.plural}"
        if contact_id is not None:
            base += f"/{contact_id}"
        return base + suffix

    return build


@pytest.fixture
def outbox():
    """Return the outbox rows written so far, oldest first."""
    return lambda: list(OutboxEvent.objects.order_by("id"))


@pytest.fixture(autouse=True)
def _order_services(request):
    """No order uses any contact unless the test says so (``order_services.use``)."""
    return request.getfixturevalue("order_services")
