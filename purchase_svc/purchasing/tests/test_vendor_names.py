"""The vendor's name copied on purchase orders, kept fresh from contact events in any order, at least once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.queries import statements
from order_documents import documents
from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db

CREATED = registry.lookup("contact.vendor.created", 1)
UPDATED = registry.lookup("contact.vendor.updated", 1)
DELETED = registry.lookup("contact.vendor.deleted", 1)


def _contact(vendor_id, name: str) -> dict:
    return {"vendor_id": vendor_id, "name": name, "email": "a@example.com", "phone": "", "address": ""}


def _names(vendor_id) -> list[str]:
    return list(PurchaseOrder.objects.filter(vendor_id=vendor_id).values_list("vendor_name", flat=True))


def test_a_rename_reaches_every_order_of_the_party(services, draft, vendor_id, deliver_contact):
    # given two orders of the vendor and one of another
    item = services.add_item()
    draft([(item, 1)])
    draft([(item, 2)])
    other = PurchaseOrder.objects.create(vendor_id=services.add_contact("vendors"), vendor_name="Other")

    # when
    deliver_contact(UPDATED, _contact(vendor_id, "New Name"), version=2)

    # then
    assert _names(vendor_id) == ["New Name", "New Name"]
    assert PurchaseOrder.objects.get(pk=other.pk).vendor_name == "Other"


def test_an_older_event_arriving_late_does_not_undo_a_newer_name(services, draft, vendor_id, deliver_contact):
    # given
    draft([(services.add_item(), 1)])
    deliver_contact(UPDATED, _contact(vendor_id, "Newest"), version=3)

    # when
    deliver_contact(UPDATED, _contact(vendor_id, "Older"), version=2)
    deliver_contact(CREATED, _contact(vendor_id, "First"), version=1)

    # then
    assert _names(vendor_id) == ["Newest"]


def test_an_order_created_after_a_rename_is_not_undone_by_an_older_event(services, draft, vendor_id, deliver_contact):
    # given: the rename (version 2) was applied before the vendor had any order
    deliver_contact(UPDATED, _contact(vendor_id, "Renamed"), version=2)
    services.contacts["vendors"][vendor_id]["name"] = "Renamed"
    order = draft([(services.add_item(), 1)])

    # when the creation (version 1) arrives late
    deliver_contact(CREATED, _contact(vendor_id, "Original"), version=1)

    # then
    assert order["vendor_name"] == "Renamed"
    assert _names(vendor_id) == ["Renamed"]


def test_a_rename_applied_while_an_order_is_created_reaches_it(
    services, draft, vendor_id, deliver_contact, monkeypatch
):
    # given: contact_svc answers the name as it was (version 1), and while the items are
    # being checked the rename (version 2) is applied, to orders that do not include this one
    real_lines_checked = documents.lines_checked

    def lines_checked_during_a_rename(**kwargs):
        deliver_contact(UPDATED, _contact(vendor_id, "Renamed"), version=2)
        return real_lines_checked(**kwargs)

    monkeypatch.setattr(documents, "lines_checked", lines_checked_during_a_rename)

    # when
    order = draft([(services.add_item(), 1)])

    # then: the order has the rename, not the name read before it (whose event will not come again)
    assert order["vendor_name"] == "Renamed"
    assert PurchaseOrder.objects.get(pk=order["id"]).vendor_version == 2


def test_a_deleted_party_leaves_its_orders_intact(services, draft, vendor_id, deliver_contact):
    # given
    order = draft([(services.add_item(), 1)])

    # when
    deliver_contact(DELETED, _contact(vendor_id, order["vendor_name"]), version=4)

    # then
    row = PurchaseOrder.objects.get(pk=order["id"])
    assert (row.vendor_name, row.status, row.lines.count()) == (order["vendor_name"], "Draft", 1)


@pytest.mark.parametrize("event_type", [CREATED, UPDATED, DELETED], ids=str)
@pytest.mark.parametrize("orders", [1, 5])
def test_a_vendor_event_query_count_is_pinned(
    services, draft, vendor_id, vendor_item, deliver_contact, event_type, orders
):
    # given: the vendor's orders and one of its vendor items
    item = services.add_item()
    for _ in range(orders):
        draft([(item, 1)])
    vendor_item()

    # when
    with CaptureQueriesContext(connection) as applying:
        deliver_contact(event_type, _contact(vendor_id, "New Name"), version=2)

    # then: the same whatever the number of orders: the inbox row, the vendor's version (read, and written: the
    # first heard of), the orders' conditional UPDATE and the vendor items' (a deletion deletes them too)
    assert _names(vendor_id) == ["New Name"] * orders
    renamed = ["INSERT", "SELECT", "INSERT", "UPDATE", "UPDATE"]
    assert statements(applying) == ([*renamed, "DELETE"] if event_type == DELETED else renamed)
