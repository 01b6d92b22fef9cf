"""Fixtures of the sales tests: contact/inventory/auth faked at the HTTP edge, clients per role."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from common.events import envelope
from common.events.consumer import EventConsumer
from common.events.models import OutboxEvent
from common.orders.testing import FakeServices
from common.testing import auth_client


@pytest.fixture(scope="session")
def fake_services():
    server = FakeServices().start()
    yield server
    server.shutdown()


@pytest.fixture
def services(fake_services, settings):
    """The fake contact, inventory and auth services, empty, with this service pointed at them."""
    fake_services.reset()
    settings.ERP = {
        **settings.ERP,
        "AUTH_SERVICE_URL": fake_services.url,
        "CONTACT_SERVICE_URL": fake_services.url,
        "INVENTORY_SERVICE_URL": fake_services.url,
        "SERVICE_SECRET": "sales-test-secret",
        "HTTP_TIMEOUT": 0.5,
    }
    return fake_services


@pytest.fixture
def customer_id(services):
    return services.add_contact("customers", "Acme Retail")


@pytest.fixture
def as_admin():
    return auth_client("admin")


@pytest.fixture
def as_im():
    return auth_client("inventory_manager")


@pytest.fixture
def as_fm():
    return auth_client("finance_manager")


@pytest.fixture
def as_service():
    return auth_client(token_type="service", user_id="inventory")


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
def draft(services, customer_id, as_admin):
    """Create a draft through the API: ``draft([(item_id, quantity), ...])`` returns its JSON."""

    def create(lines):
        body = {"customer_id": customer_id, "items": [{"item_id": item, "quantity": qty} for item, qty in lines]}
        response = as_admin.post("/orders", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["data"]

    return create


@pytest.fixture
def deliver():
    """Deliver an event to sales' handlers through the consumer's inbox path; return whether it applied."""
    consumer = EventConsumer(consumer="sales")

    def send(event_type, data, *, event_id=None):
        _, payload = envelope.build(event_type, data=data, event_id=event_id)
        event = envelope.parse(payload)
        return consumer._apply(event, consumer.handlers[event_type])

    return send
