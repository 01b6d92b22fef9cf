"""Two concurrent transitions of one purchase order: it moves once and emits one event (PostgreSQL, threads)."""

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from common.exceptions import InvalidTransition
from erp_testkit.concurrency import race
from purchasing import services as purchase_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    assert connection.vendor == "postgresql", "race tests need PostgreSQL row locks (set ERP_POSTGRES_URL)"


@pytest.mark.parametrize(
    ("service", "publisher", "status", "event"),
    [
        ("purchase_order_receive", "purchase_order_received_publish", "Received", "purchase.order.received"),
        ("purchase_order_cancel", "purchase_order_cancelled_publish", "Cancelled", "purchase.order.cancelled"),
    ],
)
def test_two_concurrent_transitions_of_a_draft_happen_once(
    monkeypatch, services, draft, service, publisher, status, event
):
    # given
    order = draft([(services.add_item(), 3)])

    # when
    first, second = race(
        monkeypatch,
        purchase_services,
        hold=publisher,
        call=lambda: getattr(purchase_services, service)(order_id=order["id"], actor="race@example.com"),
    )

    # then
    assert first.error is None and first.result.status == status
    assert isinstance(second.error, InvalidTransition) and second.error.current == status
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [event]


def test_two_concurrent_pays_pay_once(monkeypatch, services, draft):
    # given
    order = draft([(services.add_item(), 1)])
    purchase_services.purchase_order_receive(order_id=order["id"], actor="race@example.com")

    # when
    first, second = race(
        monkeypatch,
        purchase_services,
        hold="purchase_order_paid_publish",
        call=lambda: purchase_services.purchase_order_pay(order_id=order["id"], actor="race@example.com"),
    )

    # then
    assert first.error is None and first.result.status == "Paid"
    assert isinstance(second.error, InvalidTransition) and second.error.current == "Paid"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "purchase.order.received",
        "purchase.order.paid",
    ]
