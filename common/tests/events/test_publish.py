"""publish_event: the outbox row, its envelope and the transaction rules."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from common.events import EventDataError, PoisonMessage, TransactionRequired, envelope, publish_event, registry
from common.events.models import OutboxEvent
from common.request_id import reset_request_id, set_request_id

ORDER_ID = uuid.UUID("7d8f3f57-0b77-4c1e-9a8e-3f4b1f0e5a11")


def _paid_data(amount=Decimal("1234567890.10")):
    return {"order_id": ORDER_ID, "total_amount": amount}


@pytest.mark.django_db(transaction=True)
def test_publish_writes_envelope_with_exact_values():
    # given
    token = set_request_id("req-42")
    occurred = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    data = {
        "order_id": ORDER_ID,
        "customer_id": uuid.UUID(int=1),
        "total_amount": Decimal("0.10"),
        "items": [{"item_id": uuid.UUID(int=2), "quantity": 3, "unit_price": Decimal("0.10"), "when": occurred}],
    }
    # when
    try:
        with transaction.atomic():
            row = publish_event(registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=ORDER_ID)
    finally:
        reset_request_id(token)
    # then
    stored = OutboxEvent.objects.get()
    assert stored.id == row.id and stored.sent_at is None
    assert (stored.event_type, stored.version, stored.producer) == ("sales.order.confirmed", 1, "sales")
    assert stored.aggregate_id == str(ORDER_ID) and stored.correlation_id == "req-42"
    raw = json.loads(stored.payload)
    assert set(raw) == set(envelope.ENVELOPE_FIELDS)
    assert raw["event_id"] == str(stored.event_id)
    assert '"total_amount":0.10' in stored.payload
    assert raw["data"]["items"][0]["when"] == "2024-01-02T03:04:05+00:00"
    event = envelope.parse(stored.payload)
    assert event.data["total_amount"] == Decimal("0.10")
    assert event.event_type is registry.SALES_ORDER_CONFIRMED
    assert event.correlation_id == "req-42"


@pytest.mark.django_db(transaction=True)
def test_rollback_writes_no_outbox_row():
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_event(registry.SALES_ORDER_PAID, data=_paid_data(), aggregate_id=ORDER_ID)
        raise RuntimeError("business failure")
    # then
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_publish_outside_transaction_raises_and_writes_nothing():
    with pytest.raises(TransactionRequired):
        publish_event(registry.SALES_ORDER_PAID, data=_paid_data(), aggregate_id=ORDER_ID)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "data",
    [
        {"order_id": ORDER_ID},
        {"order_id": ORDER_ID, "total_amount": Decimal("1"), "extra": 1},
    ],
)
def test_publish_rejects_wrong_fields(data):
    with pytest.raises(EventDataError), transaction.atomic():
        publish_event(registry.SALES_ORDER_PAID, data=data, aggregate_id=ORDER_ID)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("amount", [Decimal("NaN"), float("inf"), dt.datetime(2024, 1, 1), object()])
def test_publish_rejects_unencodable_values(amount):
    with pytest.raises((ValueError, TypeError)), transaction.atomic():
        publish_event(registry.SALES_ORDER_PAID, data=_paid_data(amount), aggregate_id=ORDER_ID)
    assert OutboxEvent.objects.count() == 0


def test_registry_declares_every_contract_event_once():
    names = sorted(event_type.name for event_type in registry.ALL)
    assert names == sorted(
        [
            "contact.customer.created",
            "contact.customer.updated",
            "contact.customer.deleted",
            "contact.vendor.created",
            "contact.vendor.updated",
            "contact.vendor.deleted",
            "sales.order.confirmed",
            "sales.order.paid",
            "purchase.order.received",
            "purchase.order.paid",
            "inventory.stock.issued",
            "inventory.stock.shortage",
            "sales.order.cancelled",
            "purchase.order.cancelled",
            "inventory.stock.returned",
            "inventory.stock.low",
        ]
    )
    assert registry.CUSTOMER_CREATED.fields == ("customer_id", "name", "email", "phone", "address")


def _valid_body(**overrides):
    raw = json.loads(envelope.build(registry.SALES_ORDER_PAID, data={"order_id": str(ORDER_ID), "total_amount": 1})[1])
    raw.update(overrides)
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "bad JSON"),
        ("[1]", "not a JSON object"),
        (json.dumps({"event_type": "sales.order.paid"}), "misses fields"),
        (_valid_body(version=9), "unknown event type or version: sales.order.paid v9"),
        (_valid_body(event_type="sales.order.lost"), "unknown event type"),
        (_valid_body(event_id="nope"), "event_id is not a UUID"),
        (_valid_body(occurred_at="yesterday"), "occurred_at"),
        (_valid_body(data={"order_id": "x"}), "data misses fields ['total_amount']"),
    ],
)
def test_parse_rejects_poison_with_reason(body, reason):
    with pytest.raises(PoisonMessage) as caught:
        envelope.parse(body)
    assert reason in caught.value.reason
