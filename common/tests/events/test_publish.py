"""publish_event and the typed registry: the outbox row, its envelope, the checks on publish and on receipt."""

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from common.events import (
    EventDataError,
    ForeignEvent,
    PoisonMessage,
    TransactionRequired,
    envelope,
    publish_event,
    registry,
    schema,
)
from common.events.models import OutboxEvent
from common.request_id import reset_request_id, set_request_id

ORDER_ID = uuid.UUID("7d8f3f57-0b77-4c1e-9a8e-3f4b1f0e5a11")
CUSTOMER_ID = uuid.UUID(int=1)
ITEM_ID = uuid.UUID(int=2)


def _paid_data(amount=Decimal("1234567890.10")):
    return {"order_id": ORDER_ID, "total_amount": amount}


def _confirmed(**line) -> registry.SalesOrderConfirmedData:
    fields = {"item_id": ITEM_ID, "quantity": 3, "unit_price": Decimal("0.10"), "subtotal": Decimal("0.30")} | line
    return registry.SalesOrderConfirmedData(
        order_id=ORDER_ID, customer_id=CUSTOMER_ID, total_amount=Decimal("0.30"), items=(registry.OrderLine(**fields),)
    )


def _publish(event_type, data, version=1):
    with transaction.atomic():
        return publish_event(event_type, data=data, aggregate_id=ORDER_ID, aggregate_version=version)


@pytest.mark.django_db(transaction=True)
def test_publish_writes_envelope_with_exact_values():
    # given
    token = set_request_id("req-42")
    # when
    try:
        row = _publish(registry.SALES_ORDER_CONFIRMED, _confirmed(), version=7)
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
    assert (raw["aggregate_id"], raw["aggregate_version"]) == (str(ORDER_ID), 7)
    assert raw["data"] == {
        "order_id": str(ORDER_ID),
        "customer_id": str(CUSTOMER_ID),
        "total_amount": 0.3,
        "items": [{"item_id": str(ITEM_ID), "quantity": 3, "unit_price": 0.1, "subtotal": 0.3}],
    }
    assert '"total_amount":0.30' in stored.payload
    event = envelope.parse(stored.payload)
    assert event.data == _confirmed()
    assert event.event_type is registry.SALES_ORDER_CONFIRMED
    assert (event.correlation_id, event.aggregate_id, event.aggregate_version) == ("req-42", str(ORDER_ID), 7)


@pytest.mark.django_db(transaction=True)
def test_money_is_a_two_place_decimal_whatever_its_digits_on_the_wire():
    # given: an amount published as an integer (JSON "10", which a JSON parser reads as int)
    row = _publish(registry.SALES_ORDER_PAID, {"order_id": ORDER_ID, "total_amount": 10})
    assert '"total_amount":10.00' in row.payload
    body = row.payload.replace('"total_amount":10.00', '"total_amount":10')
    # when
    event = envelope.parse(body)
    # then
    assert event.data == registry.OrderPaidData(order_id=ORDER_ID, total_amount=Decimal("10.00"))
    assert str(event.data.total_amount) == "10.00"


@pytest.mark.django_db(transaction=True)
def test_a_mapping_is_checked_like_an_instance_and_handed_out_typed():
    # when
    row = _publish(registry.SALES_ORDER_PAID, {"order_id": str(ORDER_ID), "total_amount": Decimal("5.5")})
    # then
    assert envelope.parse(row.payload).data == registry.OrderPaidData(order_id=ORDER_ID, total_amount=Decimal("5.50"))


@pytest.mark.django_db(transaction=True)
def test_rollback_writes_no_outbox_row():
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_event(registry.SALES_ORDER_PAID, data=_paid_data(), aggregate_id=ORDER_ID, aggregate_version=1)
        raise RuntimeError("business failure")
    # then
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_publish_outside_transaction_raises_and_writes_nothing():
    with pytest.raises(TransactionRequired):
        publish_event(registry.SALES_ORDER_PAID, data=_paid_data(), aggregate_id=ORDER_ID, aggregate_version=1)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_publish_refuses_an_event_another_service_produces():
    # given: this process is "sales"; customer events belong to contact
    data = registry.CustomerData(customer_id=CUSTOMER_ID, name="A", email="a@example.com", phone="", address="")
    # when / then
    with pytest.raises(ForeignEvent, match=r"sales cannot publish contact\.customer\.created@v1: contact produces it"):
        _publish(registry.CUSTOMER_CREATED, data)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"order_id": ORDER_ID}, "data: missing fields ['total_amount'], unexpected fields []"),
        (
            {"order_id": ORDER_ID, "total_amount": Decimal("1"), "extra": 1},
            "data: missing fields [], unexpected fields ['extra']",
        ),
        ({"order_id": "nope", "total_amount": Decimal("1")}, "order_id: expected a UUID, got 'nope'"),
        ({"order_id": ORDER_ID, "total_amount": "1.00"}, "total_amount: expected an exact amount"),
        ({"order_id": ORDER_ID, "total_amount": 1.5}, "total_amount: expected an exact amount"),
        ({"order_id": ORDER_ID, "total_amount": Decimal("1.005")}, "total_amount: expected an amount with at most 2"),
        ({"order_id": ORDER_ID, "total_amount": Decimal("NaN")}, "total_amount: expected an amount with at most 2"),
        ({"order_id": ORDER_ID, "total_amount": True}, "total_amount: expected an exact amount"),
        # Beyond NUMERIC(14,2): no consumer could store it (and 1e999999 broke quantize).
        (
            {"order_id": ORDER_ID, "total_amount": Decimal("1000000000000")},
            "total_amount: amount out of range of NUMERIC(14,2): Decimal('1000000000000')",
        ),
        (
            {"order_id": ORDER_ID, "total_amount": Decimal("1e999999")},
            "total_amount: amount out of range of NUMERIC(14,2): Decimal('1E+999999')",
        ),
        ({"order_id": ORDER_ID, "total_amount": -(10**12)}, "total_amount: amount out of range of NUMERIC(14,2)"),
        ("not a dict", "data: expected an object, got str"),
    ],
)
def test_publish_rejects_data_that_does_not_match_the_declaration(data, message):
    with pytest.raises(EventDataError) as caught:
        _publish(registry.SALES_ORDER_PAID, data)
    assert str(caught.value).startswith(f"sales.order.paid@v1: {message}")
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"quantity": "3"}, "items.0.quantity: expected an integer, got '3'"),
        ({"quantity": False}, "items.0.quantity: expected an integer, got False"),
        ({"quantity": 2**63}, "items.0.quantity: integer out of range (64 bits), got 9223372036854775808"),
        # The reason quotes a shortened value: a megabyte string must not become a megabyte reason.
        ({"quantity": "9" * 500}, f"items.0.quantity: expected an integer, got '{'9' * 27}...{'9' * 28}'"),
        ({"unit_price": 0.1}, "items.0.unit_price: expected an exact amount (Decimal or integer), got 0.1"),
    ],
)
def test_publish_names_the_nested_field_that_does_not_match(line, message):
    # given: a line built around the dataclass's own checks (dataclasses do not check types)
    data = dataclasses.replace(_confirmed(), items=(dataclasses.replace(_confirmed().items[0], **line),))
    # when / then
    with pytest.raises(EventDataError) as caught:
        _publish(registry.SALES_ORDER_CONFIRMED, data)
    assert str(caught.value) == f"sales.order.confirmed@v1: {message}"
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", [0, -1, True, "2", None, 2**63])
def test_publish_rejects_an_aggregate_version_that_is_not_a_positive_integer(version):
    with pytest.raises(EventDataError, match="aggregate_version must be a positive integer"):
        _publish(registry.SALES_ORDER_PAID, _paid_data(), version=version)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("amount", [Decimal("Infinity"), dt.datetime(2024, 1, 1), object()])
def test_publish_rejects_unencodable_values(amount):
    with pytest.raises(EventDataError):
        _publish(registry.SALES_ORDER_PAID, _paid_data(amount))
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_money_just_inside_numeric_14_2_is_published():
    # when
    row = _publish(registry.SALES_ORDER_PAID, _paid_data(Decimal("999999999999.99")))
    # then
    assert '"total_amount":999999999999.99' in row.payload


@pytest.mark.django_db(transaction=True)
def test_publish_refuses_a_message_larger_than_the_limit(settings):
    # given: a limit just below this event's size
    settings.ERP_EVENTS = {"MAX_MESSAGE_BYTES": 200}
    # when / then
    with pytest.raises(EventDataError, match="the message is larger than 200 bytes"):
        _publish(registry.SALES_ORDER_PAID, _paid_data())
    assert OutboxEvent.objects.count() == 0


def test_registry_declares_every_contract_event_once_with_its_data():
    declared = {event_type.name: event_type.fields for event_type in registry.ALL}
    contact = ("name", "email", "phone", "address")
    order = ("order_id", "total_amount")
    moved = ("order_id", "items")
    assert declared == {
        "contact.customer.created": ("customer_id", *contact),
        "contact.customer.updated": ("customer_id", *contact),
        "contact.customer.deleted": ("customer_id", *contact),
        "contact.vendor.created": ("vendor_id", *contact),
        "contact.vendor.updated": ("vendor_id", *contact),
        "contact.vendor.deleted": ("vendor_id", *contact),
        "sales.order.confirmed": ("order_id", "customer_id", "total_amount", "allow_backorder", "items"),
        "sales.order.paid": order,
        "sales.order.cancelled": ("order_id",),
        # The newest version of a name (v2) is declared last; v1 below.
        "purchase.order.received": ("order_id", "vendor_id", "receipt_id", "status", "amount", "items"),
        "purchase.order.paid": (*order, "amount_paid"),
        "purchase.order.cancelled": ("order_id",),
        "inventory.stock.issued": moved,
        "inventory.stock.shortage": moved,
        "inventory.stock.returned": moved,
        "inventory.stock.low": ("item_id", "sku", "quantity", "backordered", "reorder_level", "max_level"),
        "inventory.stock.backordered": moved,
        "inventory.stock.filled": moved,
        "inventory.receipt.refused": ("order_id", "receipt_id", "items"),
    }
    assert registry.SALES_ORDER_CONFIRMED.fields == ("order_id", "customer_id", "total_amount", "items")
    assert registry.PURCHASE_ORDER_RECEIVED.fields == ("order_id", "vendor_id", "total_amount", "items")
    assert registry.PURCHASE_ORDER_PAID.fields == order
    assert registry.STOCK_LOW.fields == ("item_id", "sku", "quantity", "reorder_level")
    assert dataclasses.fields(registry.OrderLine)[2].name == "unit_price"
    assert [f.name for f in dataclasses.fields(registry.StockMovementLine)] == ["item_id", "quantity", "quantity_after"]
    assert [f.name for f in dataclasses.fields(registry.ShortLine)] == ["item_id", "requested", "available"]
    assert registry.STOCK_ISSUED.data is registry.STOCK_RETURNED.data is registry.StockMovedData
    assert registry.STOCK_BACKORDERED.data is registry.STOCK_FILLED.data is registry.StockProgressData


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("value", "accepted"), [(True, True), (False, True), (1, False), ("true", False), (None, False)]
)
def test_a_boolean_is_json_true_or_false_only(value, accepted):
    # given: a confirmation v2, whose allow_backorder is declared bool
    data = {**schema.to_primitive(_confirmed()), "allow_backorder": value}

    # when
    if accepted:
        row = _publish(registry.SALES_ORDER_CONFIRMED_V2, data)
        # then
        assert envelope.parse(row.payload).data.allow_backorder is value
    else:
        with pytest.raises(EventDataError) as caught:
            _publish(registry.SALES_ORDER_CONFIRMED_V2, data)
        # then
        assert "allow_backorder: expected true or false" in str(caught.value)
        assert OutboxEvent.objects.count() == 0


def test_an_event_type_refuses_a_data_class_it_cannot_check():
    @dataclasses.dataclass
    class Mutable:
        order_id: uuid.UUID

    @dataclasses.dataclass(frozen=True)
    class Floating:
        amount: float

    with pytest.raises(TypeError, match="Mutable must be a frozen dataclass"):
        registry.EventType("x.y", 1, "sales", Mutable)
    with pytest.raises(TypeError, match=r"Floating\.amount: unsupported type"):
        registry.EventType("x.y", 1, "sales", Floating)


def _valid_body(**overrides):
    data = {"order_id": str(ORDER_ID), "total_amount": 1}
    raw = json.loads(
        envelope.build(registry.SALES_ORDER_PAID, data=data, aggregate_id=str(ORDER_ID), aggregate_version=1)[1]
    )
    raw.update(overrides)
    return json.dumps(raw)


def _amount_body(number: str) -> str:
    """A valid body whose ``total_amount`` is ``number`` written as is."""
    body = _valid_body()
    assert '"total_amount": 1.0' in body
    return body.replace('"total_amount": 1.0', f'"total_amount": {number}')


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
        (_valid_body(aggregate_version=0), "aggregate_version is not a positive integer: 0"),
        (_valid_body(aggregate_id=""), "aggregate_id is not a string of 1 to 100 characters: ''"),
        (_valid_body(aggregate_id="x" * 101), "aggregate_id is not a string of 1 to 100 characters"),
        (_valid_body(aggregate_version="2"), "aggregate_version is not a positive integer: '2'"),
        (_valid_body(aggregate_version=-3), "aggregate_version is not a positive integer: -3"),
        (_valid_body(aggregate_version=2**63), "aggregate_version is not a positive integer: 9223372036854775808"),
        # A type has one producer: anyone else's is misrouted or forged.
        (_valid_body(producer="contact"), "sales.order.paid@v1 is produced by sales, not 'contact'"),
        (_valid_body(correlation_id={"a": 1}), "correlation_id is not a string of at most 128 characters"),
        (_valid_body(correlation_id="r" * 129), "correlation_id is not a string of at most 128 characters"),
        (b'{"event_id": "\xff"}', "bad JSON"),
        (_valid_body(data={"order_id": str(ORDER_ID), "total_amount": 1e999999}), "expected an exact amount"),
        (
            _amount_body("1e999999"),
            "total_amount: amount out of range of NUMERIC(14,2): Decimal('1E+999999')",
        ),
        (_amount_body("NaN"), "expected an exact amount"),
        (_amount_body("9" * 5000), "bad JSON: Exceeds the limit"),
        (_valid_body(data={"order_id": str(ORDER_ID), "total_amount": 1, "x": "a" * 2_000_000}), "larger than 1048576"),
        (
            _valid_body(data={"order_id": "x"}),
            "sales.order.paid@v1: data: missing fields ['total_amount'], unexpected fields []",
        ),
        (
            _valid_body(data={"order_id": str(ORDER_ID), "total_amount": "1.00"}),
            "sales.order.paid@v1: total_amount: expected an exact amount (Decimal or integer), got '1.00'",
        ),
    ],
)
def test_parse_rejects_poison_with_reason(body, reason):
    with pytest.raises(PoisonMessage) as caught:
        envelope.parse(body)
    assert reason in caught.value.reason
