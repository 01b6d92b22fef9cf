"""Query counts of purchase orders' writes and of replenishment, pinned on PostgreSQL: the same whatever the
number of lines. (Not in the SQLite lane: it has no row locks and no pg_notify, so its statements differ.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.events import registry
from erp_testkit.queries import statements

pytestmark = pytest.mark.django_db

LINES = [1, 5]


def post(client, order, action, body=None):
    return client.post(f"/orders/{order['id']}/{action}", body, format="json")


def items(services, count: int) -> list[str]:
    return [services.add_item(unit_price="2.50") for _ in range(count)]


@pytest.mark.parametrize("lines", LINES)
def test_create_query_count_is_pinned(services, vendor_id, as_im, lines):
    # given
    body = {"vendor_id": vendor_id, "items": [{"item_id": item, "quantity": 3} for item in items(services, lines)]}

    # when
    with CaptureQueriesContext(connection) as creating:
        assert as_im.post("/orders", body, format="json").status_code == 201

    # then: the vendor's version heard of (before contact_svc is asked, and again in the transaction, with its
    # name), the order, its lines
    assert statements(creating) == ["SELECT", "SELECT", "INSERT", "INSERT"]


@pytest.mark.parametrize("lines", LINES)
def test_receive_and_receipt_query_counts_are_pinned(services, draft, as_im, lines):
    # given: two drafts of as many lines
    ordered = items(services, lines)
    whole, in_parts = draft([(item, 3) for item in ordered]), draft([(item, 3) for item in ordered])

    # when: one received whole, the other a part of each line
    with CaptureQueriesContext(connection) as receiving:
        assert post(as_im, whole, "receive").status_code == 200
    part = {"items": [{"item_id": item, "quantity": 1} for item in ordered]}
    with CaptureQueriesContext(connection) as recording:
        assert post(as_im, in_parts, "receipts", part).status_code == 201

    # then: receive = the order's vendor and items (asked of contact_svc and inventory before the transaction),
    # then under the locks of the order and its lines: the receipt, its lines, the lines' UPDATE, the order's,
    # status history, outbox and its pg_notify; the lines, for the answer (the path's id goes to the service as
    # it is: no get_object() reading the order once more before)
    written = ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "UPDATE", "INSERT", "INSERT", "SELECT"]
    assert statements(receiving) == ["SELECT", "SELECT", *written, "SELECT"]
    # the receipt: the order first (get_object: an unknown order is a 404 whatever the body), then the same
    assert statements(recording) == ["SELECT", "SELECT", "SELECT", *written, "SELECT"]


@pytest.mark.parametrize("lines", LINES)
def test_close_pay_and_cancel_query_counts_are_pinned(services, draft, as_im, as_fm, lines):
    # given: an order partly received, and a draft, of as many lines
    ordered = items(services, lines)
    received, a_draft = draft([(item, 3) for item in ordered]), draft([(item, 3) for item in ordered])
    part = {"items": [{"item_id": item, "quantity": 1} for item in ordered]}
    assert post(as_im, received, "receipts", part).status_code == 201

    # when
    with CaptureQueriesContext(connection) as closing:
        assert post(as_fm, received, "close").status_code == 200
    with CaptureQueriesContext(connection) as paying:
        assert post(as_fm, received, "pay").status_code == 200
    with CaptureQueriesContext(connection) as cancelling:
        assert post(as_fm, a_draft, "cancel").status_code == 200

    # then: each under the order's lock: the order, its UPDATE, status history (pay and cancel: the outbox and its
    # pg_notify); the lines, for the answer (no get_object() reading the order before)
    assert statements(closing) == ["SELECT", "UPDATE", "INSERT", "SELECT"]
    assert statements(paying) == statements(cancelling) == ["SELECT", "UPDATE", "INSERT", "INSERT", "SELECT", "SELECT"]


def test_a_low_stock_event_raising_a_draft_query_count_is_pinned(vendor_item, low):
    # given: an item its vendor has no replenishment draft for
    vi = vendor_item()

    # when
    with CaptureQueriesContext(connection) as raising:
        assert low(vi, quantity=4, version=2)

    # then: the inbox row; the item's figures kept (inserted if new, locked, updated); its preferred vendor item,
    # what is on order of it; no draft found, so one inserted and locked; on order again, under that lock; the
    # draft's lines locked (the new line's position follows theirs); the line, the draft's total
    assert statements(raising) == [
        *["INSERT", "INSERT", "SELECT", "UPDATE"],
        *["SELECT", "SELECT", "SELECT", "INSERT", "SELECT", "SELECT", "SELECT"],
        *["INSERT", "UPDATE"],
    ]


@pytest.mark.parametrize("lines", LINES)
def test_a_low_stock_event_on_a_draft_query_counts_are_pinned(vendor_item, low, lines):
    # given: the vendor's replenishment draft already has as many lines, of other items
    for number in range(lines):
        assert low(vendor_item(sku=f"ON-DRAFT-{number}"), quantity=4, version=2)
    vi = vendor_item()

    # when: the item runs low (a line added), then lower (the line grows)
    with CaptureQueriesContext(connection) as adding:
        assert low(vi, quantity=4, version=2)
    with CaptureQueriesContext(connection) as growing:
        assert low(vi, quantity=0, backordered=7, version=3)

    # then: as when a draft is raised, the draft found and locked instead of inserted; a growing line is updated
    assert statements(adding) == [
        *["INSERT", "INSERT", "SELECT", "UPDATE"],
        *["SELECT", "SELECT", "SELECT", "SELECT", "SELECT"],
        *["INSERT", "UPDATE"],
    ]
    assert statements(growing) == [
        *["INSERT", "INSERT", "SELECT", "UPDATE"],
        *["SELECT", "SELECT", "SELECT", "SELECT", "SELECT"],
        *["UPDATE", "UPDATE"],
    ]


def test_a_low_stock_event_v1_query_count_is_pinned(deliver, services):
    # given: an inventory_svc from before replenishment (no max level: nothing to reorder)
    data = {"item_id": services.add_item(), "sku": "OLD-1", "quantity": 1, "reorder_level": 5}

    # when
    with CaptureQueriesContext(connection) as applying:
        assert deliver(registry.STOCK_LOW, data)

    # then: the inbox row only
    assert statements(applying) == ["INSERT"]
