"""Fixtures and helpers of the sales and purchase suites: their dependencies faked, events, drafts.

A service's conftest imports the fixtures it uses by name (``services``, ``outbox``,
``deliver``...) and writes its own ``draft`` fixture on :func:`draft_create` with its party
field (``{"customer_id": ...}``). The role clients (``as_admin``...) are the plugin's.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from common.events.models import OutboxEvent
from erp_testkit import events as testing_events
from order_documents.forms import LINES_PREFIX as LINES

from .fake_services import FakeServices


@pytest.fixture(scope="session")
def fake_services():
    server = FakeServices().start()
    yield server
    server.shutdown()


# Long enough for a fake's answer on a busy 2-core machine with twenty requests at once (a race
# test); a test of a slow dependency sets a short one of its own.
FAKE_SERVICE_TIMEOUT = 3.0


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
        "HTTP_TIMEOUT": FAKE_SERVICE_TIMEOUT,
    }
    return fake_services


@pytest.fixture
def order_services(fake_services, settings):
    """The fake sales and purchase services (and auth's service token), for the owners of an order's references.

    inventory_svc and contact_svc ask them before a delete (common.uses); no order uses anything
    until the test says so with ``order_services.use(path, order_ids)``.
    """
    fake_services.reset()
    settings.ERP = {
        **settings.ERP,
        "AUTH_SERVICE_URL": fake_services.url,
        "SALES_SERVICE_URL": fake_services.url,
        "PURCHASE_SERVICE_URL": fake_services.url,
        "SERVICE_SECRET": "test-secret",
        "HTTP_TIMEOUT": FAKE_SERVICE_TIMEOUT,
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


def draft_create(client, *, party: dict, lines) -> dict:
    """Create a draft through the API as ``client``: ``party`` is ``{"customer_id": ...}``, ``lines``
    ``[(item_id, quantity), ...]``; return its JSON (asserting the 201)."""
    body = {**party, "items": [{"item_id": item, "quantity": quantity} for item, quantity in lines]}
    response = client.post("/orders", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def entry_form(party: dict, lines=(), **header) -> dict:
    """The POST of an order admin's entry page (order_documents.forms): ``party`` ``{"customer_id": ...}``
    (``{}`` on a draft's page), ``lines`` ``[(item_id, quantity, unit_price), ...]`` as typed, ``header`` the rest."""
    data = {**party, f"{LINES}-TOTAL_FORMS": str(len(lines)), f"{LINES}-INITIAL_FORMS": "0", **header}
    for index, (item_id, quantity, unit_price) in enumerate(lines):
        data |= {
            f"{LINES}-{index}-item_id": item_id,
            f"{LINES}-{index}-quantity": quantity,
            f"{LINES}-{index}-unit_price": unit_price,
        }
    return data


def order_schema() -> dict:
    """Return the service's OpenAPI document as JSON."""
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def order_state(order_model, order_id) -> tuple:
    """What a refused transition must leave as it was: the row, its status history, the outbox."""
    row = order_model.objects.get(pk=order_id)
    history = list(row.status_changes.values_list("to_status"))
    return row.status, row.revision, row.updated_at, history, OutboxEvent.objects.count()


def status_history(order_model, order_id) -> list[tuple[str, str, str]]:
    """The order's status history, oldest first: ``(from_status, to_status, actor)``."""
    row = order_model.objects.get(pk=order_id)
    return list(row.status_changes.values_list("from_status", "to_status", "actor"))


def admin_messages(response) -> list[str]:
    """The messages an admin page shows (a changelist after an action)."""
    return [str(message) for message in response.context["messages"]]
