"""Hostile bodies to the availability check's pending lines: a 400 in the envelope or a sound 200, never a 500."""

from __future__ import annotations

import json
import uuid

import pytest

from ..api.serializers import MAX_LINES, MAX_PENDING
from ..models import IssueOutcome, SalesOrderIssue

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

AVAILABILITY = "/internal/stock/availability"
ITEM = str(uuid.UUID(int=1))


def _claim(quantity=1, *, item=ITEM, order=None):
    return {"order_id": order or str(uuid.uuid4()), "item_id": item, "quantity": quantity}


@pytest.mark.parametrize(
    ("pending", "field"),
    [
        (None, "pending"),
        ("x", "pending"),
        ({"order_id": str(uuid.uuid4())}, "pending"),
        ([1], "pending.0"),
        ([None], "pending.0"),
        ([_claim(2**31)], "pending.0.quantity"),
        ([_claim(-1)], "pending.0.quantity"),
        ([_claim("1e400")], "pending.0.quantity"),
        ([_claim(1.5)], "pending.0.quantity"),
        ([_claim(True)], "pending.0.quantity"),
        ([{**_claim(), "item_id": 7}], "pending.0.item_id"),
        ([{**_claim(), "order_id": None}], "pending.0.order_id"),
        ([{"item_id": ITEM, "quantity": 1}], "pending.0.order_id"),
        ([_claim()] * (MAX_PENDING + 1), "pending"),
    ],
)
def test_bad_pending_is_400_naming_the_field(as_service, pending, field):
    response = as_service.post(
        AVAILABILITY, {"items": [{"item_id": ITEM, "quantity": 1}], "pending": pending}, format="json"
    )

    assert response.status_code == 400, response.content[:300]
    assert field in [detail["field"] for detail in response.json()["error"]["details"]]


def test_the_largest_body_sales_may_send_fits_what_inventory_reads(make_item, as_service, settings):
    # given: MAX_LINES items and MAX_PENDING undecided orders, every figure its largest, encoded as sales' client
    # (requests: separators with spaces) does; some orders decided, one line sent twice
    item = make_item(stock=2**31 - 1)
    decided = uuid.uuid4()
    SalesOrderIssue.objects.create(order_id=decided, outcome=IssueOutcome.ISSUED)
    items = [{"item_id": str(item.pk), "quantity": 2**31 - 1}] * MAX_LINES
    pending = [_claim(2**31 - 1, item=str(item.pk)) for _ in range(MAX_PENDING - 2)]
    pending += [_claim(2**31 - 1, item=str(item.pk), order=str(decided))] * 2
    body = json.dumps({"items": items, "pending": pending})
    assert len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    # when
    response = as_service.post(AVAILABILITY, body, content_type="application/json")

    # then: read and counted (not a 413, which sales would answer with a 502)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["data"] == {
        "available": False,
        "short": [{"item_id": str(item.pk), "requested": MAX_LINES * (2**31 - 1), "available": 0}],
        "unknown": [],
    }


def test_pending_for_unknown_items_and_orders_claims_nothing(make_item, as_service):
    item = make_item(stock=3)
    pending = [_claim(100, item=str(uuid.uuid4())) for _ in range(50)]

    response = as_service.post(
        AVAILABILITY, {"items": [{"item_id": str(item.pk), "quantity": 3}], "pending": pending}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"available": True, "short": [], "unknown": []}


def test_pending_of_an_unknown_item_asked_counts_none_available(as_service):
    response = as_service.post(
        AVAILABILITY, {"items": [{"item_id": ITEM, "quantity": 3}], "pending": [_claim(2)]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"] == {
        "available": False,
        "short": [{"item_id": ITEM, "requested": 3, "available": 0}],
        "unknown": [ITEM],
    }


@pytest.mark.django_db(transaction=True)
def test_the_availability_check_begins_no_transaction(make_item):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..lines import PendingLine, StockLine
    from ..selectors import stock_availability

    # given: outside any transaction, as the view runs
    item = make_item(stock=5)

    # when
    with CaptureQueriesContext(connection) as queries:
        stock_availability(
            lines=[StockLine(item.pk, 1)], pending=[PendingLine(order_id=uuid.uuid4(), item_id=item.pk, quantity=1)]
        )

    # then: no BEGIN. On SQLite every transaction of the services begins IMMEDIATE, with the write lock: the check
    # would wait behind a writer (an import of 100,000 items, a minute) and fail after 20 s; a lone read takes none
    assert not [query["sql"] for query in queries.captured_queries if query["sql"].startswith("BEGIN")]
