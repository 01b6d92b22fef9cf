"""The customer's name on orders follows contact events, only when newer; a deletion keeps the orders."""

import datetime as dt

import pytest

from common.events import envelope, registry
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def contact_data(customer_id, name):
    return {"customer_id": customer_id, "name": name, "email": "a@example.com", "phone": "", "address": ""}


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


def names(customer_id) -> list[str]:
    return list(SalesOrder.objects.filter(customer_id=customer_id).values_list("customer_name", flat=True))


def test_a_rename_reaches_every_order_of_the_customer(services, draft, customer_id, deliver_at):
    # given
    item = services.add_item()
    draft([(item, 1)])
    draft([(item, 2)])
    other = services.add_contact("customers", "Someone Else")
    as_other = SalesOrder.objects.create(customer_id=other, customer_name="Someone Else")

    # when
    deliver_at(registry.CUSTOMER_UPDATED, contact_data(customer_id, "Acme Retail Group"), 10)

    # then
    assert names(customer_id) == ["Acme Retail Group", "Acme Retail Group"]
    assert SalesOrder.objects.get(pk=as_other.pk).customer_name == "Someone Else"


def test_an_older_event_arriving_late_does_not_undo_a_newer_name(services, draft, customer_id, deliver_at):
    # given
    draft([(services.add_item(), 1)])
    deliver_at(registry.CUSTOMER_UPDATED, contact_data(customer_id, "Newest Name"), 20)

    # when
    deliver_at(registry.CUSTOMER_UPDATED, contact_data(customer_id, "Older Name"), 10)
    deliver_at(registry.CUSTOMER_CREATED, contact_data(customer_id, "First Name"), 0)

    # then
    assert names(customer_id) == ["Newest Name"]


def test_a_deleted_customer_leaves_its_orders_intact(services, draft, customer_id, deliver_at):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    deliver_at(registry.CUSTOMER_DELETED, contact_data(customer_id, "Acme Retail"), 30)

    # then
    row = SalesOrder.objects.get(pk=order["id"])
    assert (row.customer_name, row.status, row.lines.count()) == ("Acme Retail", "Draft", 1)
