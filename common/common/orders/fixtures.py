"""pytest fixtures shared by the sales and purchase suites; a conftest imports them with ``*``.

The conftest defines ``order_model`` (the service's concrete order) and ``party_id``
(a contact known to the fake contact service); these fixtures do the rest.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from common.events.models import OutboxEvent
from erp_testkit import events as testing_events

from .testing import FakeServices

# The role clients (as_admin, as_im, as_fm, as_service) come from erp_testkit.plugin.
__all__ = [
    "deliver",
    "deliver_contact",
    "draft",
    "fake_services",
    "outbox",
    "services",
]


@pytest.fixture(scope="session")
def fake_services():
    server = FakeServices().start()
    yield server
    server.shutdown()


@pytest.fixture
def services(fake_services, settings):
    """The fake contact, inventory and auth services, emptied, with this service pointed at them."""
    fake_services.reset()
    settings.ERP = {
        **settings.ERP,
        "AUTH_SERVICE_URL": fake_services.url,
        "CONTACT_SERVICE_URL": fake_services.url,
        "INVENTORY_SERVICE_URL": fake_services.url,
        "SERVICE_SECRET": "test-secret",
        "HTTP_TIMEOUT": 0.5,
    }
    return fake_services


@pytest.fixture
def outbox():
    """Return the events written so far as ``(event_type, data)``, oldest first, money as Decimal."""

    def rows():
        return [
            (row.event_type, json.loads(row.payload, parse_float=Decimal)["data"])
            for row in OutboxEvent.objects.order_by("id")
        ]

    return rows


@pytest.fixture
def draft(services, order_model, party_id, as_admin):
    """Create a draft through the API: ``draft([(item_id, quantity), ...])`` returns its JSON."""

    def create(lines):
        body = {
            order_model.PARTY.id_field: party_id,
            "items": [{"item_id": item, "quantity": quantity} for item, quantity in lines],
        }
        response = as_admin.post("/orders", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["data"]

    return create


@pytest.fixture
def deliver():
    """Deliver an event to this service's handlers through the consumer's inbox path; return whether it applied."""

    def send(event_type, data, *, event_id=None, aggregate_version: int = 1):
        return testing_events.deliver(event_type, data, event_id=event_id, aggregate_version=aggregate_version).applied

    return send


@pytest.fixture
def deliver_contact(deliver):
    """Deliver a contact event as the ``version``-th change of its contact (its aggregate_version)."""

    def send(event_type, data, *, version: int):
        return deliver(event_type, data, aggregate_version=version)

    return send
