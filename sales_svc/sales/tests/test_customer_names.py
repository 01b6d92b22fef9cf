"""The customer's name copied on sales orders, kept fresh from contact events in any order, at least once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.queries import statements
from order_documents import documents
from sales.models import SalesOrder

pytestmark = pytest.mark.django_db

CREATED = registry.lookup("contact.customer.created", 1)
UPDATED = registry.lookup("contact.customer.updated", 1)
DELETED = registry.lookup("contact.customer.deleted", 1)


def _contact(customer_id, name: str) -> dict:
    return {"customer_id": customer_id, "name": name, "email": "a@example.com", "phone": "", "address": ""}


def _names(customer_id) -> list[str]:
    return list(SalesOrder.objects.filter(customer_id=customer_id).values_list("customer_name", flat=True))


def test_a_rename_reaches_every_order_of_the_party(services, draft, customer_id, deliver_contact):
    # given two orders of the customer and one of another
    item = services.add_item()
    draft([(item, 1)])
    draft([(item, 2)])
    other = SalesOrder.objects.create(customer_id=services.add_contact("customers"), customer_name="Other")

    # when
    deliver_contact(UPDATED, _contact(customer_id, "New Name"), version=2)

    # then
    assert _names(customer_id) == ["New Name", "New Name"]
    assert SalesOrder.objects.get(pk=other.pk).customer_name == "Other"


def test_an_older_event_arriving_late_does_not_undo_a_newer_name(services, draft, customer_id, deliver_contact):
    # given
    draft([(services.add_item(), 1)])
    deliver_contact(UPDATED, _contact(customer_id, "Newest"), version=3)

    # when
    deliver_contact(UPDATED, _contact(customer_id, "Older"), version=2)
    deliver_contact(CREATED, _contact(customer_id, "First"), version=1)

    # then
    assert _names(customer_id) == ["Newest"]


def test_an_order_created_after_a_rename_is_not_undone_by_an_older_event(services, draft, customer_id, deliver_contact):
    # given: the rename (version 2) was applied before the customer had any order
    deliver_contact(UPDATED, _contact(customer_id, "Renamed"), version=2)
    services.contacts["customers"][customer_id]["name"] = "Renamed"
    order = draft([(services.add_item(), 1)])

    # when the creation (version 1) arrives late
    deliver_contact(CREATED, _contact(customer_id, "Original"), version=1)

    # then
    assert order["customer_name"] == "Renamed"
    assert _names(customer_id) == ["Renamed"]


def test_a_rename_applied_while_an_order_is_created_reaches_it(
    services, draft, customer_id, deliver_contact, monkeypatch
):
    # given: contact_svc answers the name as it was (version 1), and while the items are
    # being checked the rename (version 2) is applied, to orders that do not include this one
    real_lines_checked = documents.lines_checked

    def lines_checked_during_a_rename(**kwargs):
        deliver_contact(UPDATED, _contact(customer_id, "Renamed"), version=2)
        return real_lines_checked(**kwargs)

    monkeypatch.setattr(documents, "lines_checked", lines_checked_during_a_rename)

    # when
    order = draft([(services.add_item(), 1)])

    # then: the order has the rename, not the name read before it (whose event will not come again)
    assert order["customer_name"] == "Renamed"
    assert SalesOrder.objects.get(pk=order["id"]).customer_version == 2


def test_a_deleted_party_leaves_its_orders_intact(services, draft, customer_id, deliver_contact):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    deliver_contact(DELETED, _contact(customer_id, order["customer_name"]), version=4)

    # then
    row = SalesOrder.objects.get(pk=order["id"])
    assert (row.customer_name, row.status, row.lines.count()) == (order["customer_name"], "Draft", 1)


@pytest.mark.parametrize("event_type", [CREATED, UPDATED, DELETED], ids=str)
@pytest.mark.parametrize("orders", [1, 5])
def test_a_customer_event_query_count_is_pinned(services, draft, customer_id, deliver_contact, event_type, orders):
    # given: the customer's orders
    item = services.add_item()
    for _ in range(orders):
        draft([(item, 1)])

    # when
    with CaptureQueriesContext(connection) as applying:
        deliver_contact(event_type, _contact(customer_id, "New Name"), version=2)

    # then: the same whatever the number of orders: the inbox row, the customer's version (read, and written:
    # the first heard of), the orders' conditional UPDATE
    assert _names(customer_id) == ["New Name"] * orders
    assert statements(applying) == ["INSERT", "SELECT", "INSERT", "UPDATE"]
