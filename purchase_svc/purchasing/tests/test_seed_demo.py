"""manage.py seed_demo: demo purchase orders in every status through the services, idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from erp_testkit.fake_services import closed_port_url
from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_makes_orders_in_every_status_once(services, outbox):
    # given
    vendors = [services.add_contact("vendors", f"Vendor {n}") for n in range(4)]
    items = [services.add_item() for _ in range(3)]
    args = [arg for v in vendors for arg in ("--vendor", v)] + [arg for i in items for arg in ("--item", i)]

    # when
    first = seed(*args)
    again = seed(*args)

    # then
    assert "purchase orders: 8 step(s) taken" in first
    assert "purchase orders: 0 step(s) taken" in again
    assert sorted(PurchaseOrder.objects.values_list("status", flat=True)) == ["Cancelled", "Draft", "Paid", "Received"]
    assert [event for event, _ in outbox()] == [
        "purchase.order.received",
        "purchase.order.received",
        "purchase.order.paid",
        "purchase.order.cancelled",
    ]


def test_seed_demo_with_inventory_down_reports_and_writes_nothing(services, settings):
    # given
    vendor, item = services.add_contact("vendors"), services.add_item()
    settings.ERP = {**settings.ERP, "INVENTORY_SERVICE_URL": closed_port_url()}

    # when
    output = seed("--vendor", vendor, "--item", item)

    # then
    assert "stopped at creation" in output
    assert PurchaseOrder.objects.count() == 0
