"""manage.py seed_demo: demo orders in several statuses through the services, idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from common.events import registry
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_without_ids_seeds_nothing_and_says_so(services):
    # when
    output = seed()

    # then
    assert "not seeded" in output
    assert SalesOrder.objects.count() == 0


def test_seed_demo_makes_orders_in_every_status_and_a_rerun_only_finishes_them(services, outbox, deliver):
    # given
    customers = [services.add_contact("customers", f"Customer {n}") for n in range(5)]
    items = [services.add_item(stock=100) for _ in range(3)]
    args = [arg for c in customers for arg in ("--customer", c)] + [arg for i in items for arg in ("--item", i)]

    # when
    first = seed(*args)
    pending = SalesOrder.objects.get(status="Confirmed", customer_id=customers[4])
    deliver(registry.STOCK_ISSUED, {"order_id": str(pending.id), "items": []})
    second = seed(*args)
    third = seed(*args)

    # then
    assert "stopped at Confirmed" in first  # the cancel waits for inventory's answer
    assert sorted(SalesOrder.objects.values_list("status", flat=True)) == [
        "Cancelled",
        "Cancelled",
        "Confirmed",
        "Draft",
        "Paid",
    ]
    assert "sales orders: 1 step(s) taken" in second
    assert "sales orders: 0 step(s) taken" in third
    assert [event for event, _ in outbox()] == [
        "sales.order.confirmed",
        "sales.order.confirmed",
        "sales.order.paid",
        "sales.order.confirmed",
        "sales.order.cancelled",
    ]
