"""Two concurrent transitions of one order: it moves once and emits one event (PostgreSQL, threads).

The first caller is held inside its transaction, after writing its event and before
committing, while the second runs into the order's row lock; then the first commits
and the second, re-reading the order, is refused with a 409.
"""

import uuid

import pytest
from django.db import connection

from common.events.models import OutboxEvent
from common.exceptions import Conflict, InvalidTransition
from erp_testkit.concurrency import Worker, paused_after, race, wait_until_blocked_or_done
from order_documents.lines import LineRequest
from sales import services as sales_services
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    assert connection.vendor == "postgresql", "race tests need PostgreSQL row locks (set ERP_POSTGRES_URL)"


@pytest.fixture
def confirmed(services, draft, as_fm):
    item = services.add_item(stock=10)
    order = draft([(item, 1)])
    assert as_fm.post(f"/orders/{order['id']}/confirm").status_code == 200
    return order


def test_two_concurrent_confirms_confirm_once(monkeypatch, services, draft):
    # given
    order = draft([(services.add_item(stock=10), 2)])

    # when
    first, second = race(
        monkeypatch,
        sales_services,
        hold="sales_order_confirmed_publish",
        call=lambda: sales_services.sales_order_confirm(order_id=order["id"], actor="race@example.com"),
    )

    # then
    assert first.error is None and first.result.status == "Confirmed"
    assert isinstance(second.error, InvalidTransition) and second.error.current == "Confirmed"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["sales.order.confirmed"]


def test_two_concurrent_pays_pay_once(monkeypatch, confirmed):
    # when
    first, second = race(
        monkeypatch,
        sales_services,
        hold="sales_order_paid_publish",
        call=lambda: sales_services.sales_order_pay(order_id=confirmed["id"], actor="race@example.com"),
    )

    # then
    assert first.error is None and first.result.status == "Paid"
    assert isinstance(second.error, InvalidTransition) and second.error.current == "Paid"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "sales.order.confirmed",
        "sales.order.paid",
    ]


def test_a_shortage_arriving_while_a_pay_holds_the_order_waits_for_it_then_lands(monkeypatch, confirmed):
    # given: a pay held inside its transaction, the order's row locked
    reached, release = paused_after(monkeypatch, sales_services, "sales_order_paid_publish")
    pay = Worker(lambda: sales_services.sales_order_pay(order_id=confirmed["id"], actor="race@example.com"))
    pay.start()
    assert reached.wait(10)

    # when inventory's shortage arrives meanwhile
    shortage = Worker(
        lambda: sales_services.sales_order_stock_status_set(order_id=confirmed["id"], stock_status="short")
    )
    shortage.start()
    wait_until_blocked_or_done(shortage)
    assert shortage.is_alive(), "the shortage did not wait for the order's row lock"
    release.set()
    pay.join(10)
    shortage.join(10)

    # then: both applied, one after the other; the order is paid and short (nothing will ship)
    assert pay.error is None and shortage.error is None and shortage.result is True
    order = SalesOrder.objects.get(pk=confirmed["id"])
    assert (order.status, order.stock_status) == ("Paid", "short")


def test_two_concurrent_cancels_of_an_issued_order_cancel_once(monkeypatch, confirmed):
    # given
    sales_services.sales_order_stock_status_set(order_id=confirmed["id"], stock_status="issued")

    # when
    first, second = race(
        monkeypatch,
        sales_services,
        hold="sales_order_cancelled_publish",
        call=lambda: sales_services.sales_order_cancel(order_id=confirmed["id"], actor="race@example.com"),
    )

    # then
    assert first.error is None and first.result.status == "Cancelled"
    assert isinstance(second.error, InvalidTransition) and second.error.current == "Cancelled"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "sales.order.confirmed",
        "sales.order.cancelled",
    ]


def test_lines_replaced_while_confirming_refuse_the_stale_confirmation(monkeypatch, services, draft):
    # given: the availability check passes for 1 unit, then the draft grows to 50 before the lock
    item = services.add_item(stock=10)
    order = draft([(item, 1)])
    original = sales_services.stock_availability

    def check_then_edit(*, lines, **others):
        answer = original(lines=lines, **others)
        replacement = [LineRequest(item_id=uuid.UUID(item), quantity=50)]
        sales_services.sales_order_lines_replace(order_id=order["id"], lines=replacement)
        return answer

    monkeypatch.setattr(sales_services, "stock_availability", check_then_edit)

    # when
    with pytest.raises(Conflict, match="lines changed while it was being confirmed"):
        sales_services.sales_order_confirm(order_id=order["id"], actor="race@example.com")

    # then
    row = SalesOrder.objects.get(pk=order["id"])
    assert (row.status, row.lines.get().quantity) == ("Draft", 50)
    assert OutboxEvent.objects.count() == 0
