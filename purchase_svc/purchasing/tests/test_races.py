"""Two concurrent transitions of one purchase order: it moves once and emits one event (PostgreSQL, threads)."""

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from common.orders.exceptions import InvalidTransition
from common.testing.concurrency import Worker, paused_after, wait_until_blocked_or_done
from purchasing import services as purchase_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    assert connection.vendor == "postgresql", "race tests need PostgreSQL row locks (set ERP_POSTGRES_URL)"


def race(monkeypatch, service, publisher: str, order_id):
    """Run ``service(order_id=...)`` twice at once, the first held before its commit; return both workers."""
    reached, release = paused_after(monkeypatch, purchase_services, publisher)
    first = Worker(lambda: service(order_id=order_id))
    first.start()
    assert reached.wait(10)
    second = Worker(lambda: service(order_id=order_id))
    second.start()
    wait_until_blocked_or_done(second)
    release.set()
    first.join(10)
    second.join(10)
    return first, second


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
    first, second = race(monkeypatch, getattr(purchase_services, service), publisher, order["id"])

    # then
    assert first.error is None and first.result.status == status
    assert isinstance(second.error, InvalidTransition) and second.error.current == status
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [event]


def test_two_concurrent_pays_pay_once(monkeypatch, services, draft):
    # given
    order = draft([(services.add_item(), 1)])
    purchase_services.purchase_order_receive(order_id=order["id"])

    # when
    first, second = race(monkeypatch, purchase_services.purchase_order_pay, "purchase_order_paid_publish", order["id"])

    # then
    assert first.error is None and first.result.status == "Paid"
    assert isinstance(second.error, InvalidTransition) and second.error.current == "Paid"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "purchase.order.received",
        "purchase.order.paid",
    ]
