"""``GET /items/summary``: what the back office's home shows of stock, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.lines import StockLine
from inventory.services import stock_issue_for_order

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def confirm_with_backorder(order_id, *lines, minutes):
    stock_issue_for_order(
        order_id=order_id,
        lines=[StockLine(item_id=item.pk, quantity=quantity) for item, quantity in lines],
        actor="sales",
        allow_backorder=True,
        confirmed_at=T0 + dt.timedelta(minutes=minutes),
    )


@pytest.fixture
def stock_floor(make_item):
    """Four items: 2 below their level of 10, one at it, one above it; an archived one below it."""
    items = {
        "deep": make_item(sku="DEEP", reorder_level=10, stock=1, unit_price=Decimal("2.50")),
        "near": make_item(sku="NEAR", reorder_level=10, stock=7, unit_price=Decimal("1.00")),
        "at": make_item(sku="AT", reorder_level=10, stock=10, unit_price=Decimal("0.10")),
        "above": make_item(sku="ABOVE", reorder_level=10, stock=11, unit_price=Decimal("3.00")),
        "archived": make_item(sku="GONE", reorder_level=10, stock=2, unit_price=Decimal("5.00"), active=False),
    }
    return items


def test_the_summary_counts_active_items_at_or_below_their_level_furthest_first_and_values_the_stock(
    stock_floor, as_im
):
    # when
    response = as_im.get("/items/summary")

    # then
    assert response.status_code == 200
    summary = response.json()["data"]
    assert summary["below_reorder_level"]["count"] == 3
    assert [
        (row["sku"], row["quantity"], row["shortfall"]) for row in summary["below_reorder_level"]["furthest_below"]
    ] == [
        ("DEEP", 1, 9),
        ("NEAR", 7, 3),
        ("AT", 10, 0),
    ]
    # 1 x 2.50 + 7 x 1.00 + 10 x 0.10 + 11 x 3.00 + 2 x 5.00 (archived stock is still worth its price)
    assert summary["stock_value"] == 53.5
    assert summary["backorders"] == {"units": 0, "orders": 0, "oldest": []}


def test_the_count_is_the_item_lists_for_the_same_filter(stock_floor, as_fm):
    # when
    summary = as_fm.get("/items/summary").json()["data"]
    listed = as_fm.get("/items?below_reorder_level=true&active=true").json()["meta"]["total"]

    # then
    assert summary["below_reorder_level"]["count"] == listed == 3


def test_backorders_are_added_up_per_order_oldest_confirmation_first(make_item, as_im):
    # given: two items with 1 on hand; three orders wait, the second confirmed first
    bolt, nut = make_item(sku="BOLT", stock=1), make_item(sku="NUT", stock=1)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    confirm_with_backorder(second, (bolt, 4), (nut, 3), minutes=1)  # 3 + 2 waiting
    confirm_with_backorder(first, (bolt, 2), minutes=5)  # 2 waiting
    confirm_with_backorder(third, (nut, 6), minutes=9)  # 6 waiting

    # when
    backorders = as_im.get("/items/summary").json()["data"]["backorders"]

    # then
    assert (backorders["units"], backorders["orders"]) == (13, 3)
    assert [(row["order_id"], row["units"], row["items"]) for row in backorders["oldest"]] == [
        (str(second), 5, 2),
        (str(first), 2, 1),
        (str(third), 6, 1),
    ]
    assert backorders["oldest"][0]["confirmed_at"] == "2026-12-01T09:01:00Z"


def test_the_summary_takes_four_queries_whatever_the_number_of_items(make_item, as_im):
    # given: items below their level, and an order waiting for two of them
    items = [make_item(reorder_level=20, stock=index) for index in range(1, 15)]
    confirm_with_backorder(uuid.uuid4(), (items[0], 9), (items[1], 9), minutes=0)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = as_im.get("/items/summary")

    # then: the totals, the ten furthest below, the backorders' totals, the orders waiting longest
    assert response.status_code == 200
    assert len(queries) == 4
    assert len(response.json()["data"]["below_reorder_level"]["furthest_below"]) == 10


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_summary_is_read_only(as_admin, method):
    # when
    response = getattr(as_admin, method)("/items/summary")
    # then
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed"


def test_the_summary_needs_a_signed_in_user(client):
    # when
    response = client.get("/items/summary")
    # then
    assert response.status_code == 401
