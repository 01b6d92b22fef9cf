"""manage.py seed_demo: demo orders in several statuses through the services, idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from common.events import registry
from common.orders import seeding
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

# One demo order per key, every step taken (sorted).
SEEDED_STATUSES = ["Cancelled", "Cancelled", "Confirmed", "Draft", "Paid"]


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
    assert sorted(SalesOrder.objects.values_list("status", flat=True)) == SEEDED_STATUSES
    assert "sales orders: 1 step(s) taken" in second
    assert "sales orders: 0 step(s) taken" in third
    assert [event for event, _ in outbox()] == [
        "sales.order.confirmed",
        "sales.order.confirmed",
        "sales.order.paid",
        "sales.order.confirmed",
        "sales.order.cancelled",
    ]


def _args(services) -> list[str]:
    customers = [services.add_contact("customers", f"Customer {n}") for n in range(5)]
    items = [services.add_item(stock=100) for _ in range(3)]
    return [arg for c in customers for arg in ("--customer", c)] + [arg for i in items for arg in ("--item", i)]


def test_seed_demo_with_settle_takes_the_cancel_once_inventory_answers(services, outbox, deliver, monkeypatch):
    # given: inventory answers every pending confirmation while seed_demo waits
    def inventory_answers(seconds):
        for order in SalesOrder.objects.filter(stock_status="pending"):
            assert deliver(registry.STOCK_ISSUED, {"order_id": str(order.id), "items": []})

    monkeypatch.setattr(seeding, "sleep", inventory_answers)

    # when
    output = seed(*_args(services), "--settle", "30")

    # then: one run finishes every demo order, and reports each once
    assert "stopped" not in output
    assert output.count("sales order cancelled-after-issue: Cancelled") == 1
    assert sorted(SalesOrder.objects.values_list("status", flat=True)) == SEEDED_STATUSES
    assert [event for event, _ in outbox()].count("sales.order.cancelled") == 1


def test_seed_demo_with_settle_gives_up_when_time_is_up(services, monkeypatch):
    # given: inventory never answers; a clock that moves only while seed_demo naps (a slow
    # machine's first round may itself take the whole second)
    naps, clock = [], [0.0]

    def nap(seconds):
        naps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(seeding, "sleep", nap)
    monkeypatch.setattr(seeding, "monotonic", lambda: clock[0])

    # when
    output = seed(*_args(services), "--settle", "1")

    # then: it tried more than once, then said where it stopped
    assert naps
    assert output.count("sales order cancelled-after-issue: stopped at Confirmed") == 1
