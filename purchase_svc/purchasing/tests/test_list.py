"""GET /orders: filters, search, ordering, lines prefetched (query count pinned)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [order["id"] for order in response.json()["data"]]


@pytest.fixture
def two_orders(services, draft, as_im):
    """A received order and a newer draft for another vendor."""
    nut, washer = services.add_item(sku="NUT-8"), services.add_item(sku="WASHER-8")
    received = draft([(nut, 5), (washer, 5)])
    as_im.post(f"/orders/{received['id']}/receive")
    other = services.add_contact("vendors", "Fastenal Supply")
    newer = as_im.post("/orders", {"vendor_id": other, "items": [{"item_id": washer, "quantity": 1}]}, format="json")
    return received, newer.json()["data"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [1, 0]),
        ("status=Received", [0]),
        ("search=fastenal", [1]),
        ("search=nut", [0]),
        ("ordering=-total_amount", [0, 1]),
    ],
)
def test_list_filters_search_and_ordering(two_orders, as_fm, query, expected):
    # when
    response = as_fm.get(f"/orders?{query}")

    # then
    assert ids(response) == [two_orders[index]["id"] for index in expected]


def test_list_filters_by_vendor_and_reception_range(two_orders, as_fm):
    # given
    received, newer = two_orders
    PurchaseOrder.objects.filter(pk=received["id"]).update(received_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))

    # when
    by_vendor = as_fm.get(f"/orders?vendor_id={newer['vendor_id']}")
    in_march = as_fm.get("/orders?received_after=2024-03-01T00:00:00Z&received_before=2024-03-31T00:00:00Z")
    bad = as_fm.get("/orders?received_after=march")

    # then
    assert ids(by_vendor) == [newer["id"]]
    assert ids(in_march) == [received["id"]]
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "received_after"


def test_list_query_count_is_pinned(two_orders, as_fm):
    # when
    with CaptureQueriesContext(connection) as queries:
        response = as_fm.get("/orders")

    # then: count, page, lines of the page
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
    assert len(queries) == 3
