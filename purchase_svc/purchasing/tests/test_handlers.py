"""The vendor's name on orders follows contact events, only when newer; a deletion keeps the orders."""

import datetime as dt

import pytest

from common.events import envelope, registry
from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def contact_data(vendor_id, name):
    return {"vendor_id": vendor_id, "name": name, "email": "a@example.com", "phone": "", "address": ""}


@pytest.fixture
def deliver_at(deliver, monkeypatch):
    """Deliver a contact event that occurred ``seconds`` after T0."""
    build = envelope.build

    def send(event_type, data, seconds):
        monkeypatch.setattr(
            envelope, "build", lambda *a, **kw: build(*a, **kw, occurred_at=T0 + dt.timedelta(seconds=seconds))
        )
        try:
            return deliver(event_type, data)
        finally:
            monkeypatch.setattr(envelope, "build", build)

    return send


def names(vendor_id) -> list[str]:
    return list(PurchaseOrder.objects.filter(vendor_id=vendor_id).values_list("vendor_name", flat=True))


def test_a_rename_reaches_every_order_of_the_vendor(services, draft, vendor_id, deliver_at):
    # given
    item = services.add_item()
    draft([(item, 1)])
    draft([(item, 2)])
    other = services.add_contact("vendors", "Someone Else")
    as_other = PurchaseOrder.objects.create(vendor_id=other, vendor_name="Someone Else")

    # when
    deliver_at(registry.VENDOR_UPDATED, contact_data(vendor_id, "Northwind Group"), 10)

    # then
    assert names(vendor_id) == ["Northwind Group", "Northwind Group"]
    assert PurchaseOrder.objects.get(pk=as_other.pk).vendor_name == "Someone Else"


def test_an_older_event_arriving_late_does_not_undo_a_newer_name(services, draft, vendor_id, deliver_at):
    # given
    draft([(services.add_item(), 1)])
    deliver_at(registry.VENDOR_UPDATED, contact_data(vendor_id, "Newest Name"), 20)

    # when
    deliver_at(registry.VENDOR_UPDATED, contact_data(vendor_id, "Older Name"), 10)
    deliver_at(registry.VENDOR_CREATED, contact_data(vendor_id, "First Name"), 0)

    # then
    assert names(vendor_id) == ["Newest Name"]


def test_a_deleted_vendor_leaves_its_orders_intact(services, draft, vendor_id, deliver_at):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    deliver_at(registry.VENDOR_DELETED, contact_data(vendor_id, "Northwind Components"), 30)

    # then
    row = PurchaseOrder.objects.get(pk=order["id"])
    assert (row.vendor_name, row.status, row.lines.count()) == ("Northwind Components", "Draft", 1)
