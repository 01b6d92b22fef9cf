"""The item list: pagination, search, filters, ordering, pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import Item

pytestmark = pytest.mark.django_db


def skus(response) -> list[str]:
    return [item["sku"] for item in response.json()["data"]]


def test_list_is_newest_first_with_quantity_and_meta(make_item, as_fm, django_assert_num_queries):
    # given
    old = make_item(sku="OLD-1", stock=2)
    Item.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    make_item(sku="NEW-1", stock=5)

    # when
    with django_assert_num_queries(2):  # the count, the page (quantity joined in)
        response = as_fm.get("/items")

    # then
    assert response.status_code == 200
    payload = response.json()
    assert payload["meta"] == {"total": 2, "limit": 10, "offset": 0}
    assert [(item["sku"], item["quantity"]) for item in payload["data"]] == [("NEW-1", 5), ("OLD-1", 2)]


def test_list_query_count_does_not_grow_with_the_page(make_item, as_fm, django_assert_num_queries):
    # given
    for _ in range(25):
        make_item(stock=1)

    # when
    with django_assert_num_queries(2):
        response = as_fm.get("/items", {"limit": 25})

    # then
    assert len(response.json()["data"]) == 25


def test_search_matches_every_word_in_sku_or_name(make_item, as_im):
    # given
    make_item(sku="KB-MECH", name="Mechanical keyboard")
    make_item(sku="KB-SLIM", name="Slim keyboard")
    make_item(sku="MOUSE-1", name="Wireless mouse")

    # when
    response = as_im.get("/items", {"search": "keyboard mech", "ordering": "sku"})

    # then
    assert skus(response) == ["KB-MECH"]


def test_filter_by_sku_is_exact_and_case_insensitive(make_item, as_im):
    # given
    make_item(sku="AB-1")
    make_item(sku="AB-12")

    # when
    response = as_im.get("/items", {"sku": " ab-1 "})

    # then
    assert skus(response) == ["AB-1"]


@pytest.mark.parametrize(("value", "expected"), [("true", ["AT", "BELOW"]), ("false", ["ABOVE"])])
def test_filter_below_reorder_level_means_at_or_below(make_item, as_im, value, expected):
    # given
    make_item(sku="ABOVE", reorder_level=2, stock=3)
    make_item(sku="AT", reorder_level=2, stock=2)
    make_item(sku="BELOW", reorder_level=2, stock=0)

    # when
    response = as_im.get("/items", {"below_reorder_level": value, "ordering": "sku"})

    # then
    assert skus(response) == expected


def test_filter_by_creation_time(make_item, as_im):
    # given
    early, late = make_item(sku="EARLY"), make_item(sku="LATE")
    Item.objects.filter(pk=early.pk).update(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    Item.objects.filter(pk=late.pk).update(created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))

    # when
    after = as_im.get("/items", {"created_after": "2026-03-01T00:00:00Z"})
    before = as_im.get("/items", {"created_before": "2026-03-01T00:00:00Z"})

    # then
    assert (skus(after), skus(before)) == (["LATE"], ["EARLY"])


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [("quantity", ["B", "C", "A"]), ("-unit_price", ["C", "A", "B"]), ("name", ["A", "B", "C"])],
)
def test_ordering(make_item, as_im, ordering, expected):
    # given
    make_item(sku="A", name="a", stock=9, unit_price="2.00")
    make_item(sku="B", name="b", stock=1, unit_price="1.00")
    make_item(sku="C", name="c", stock=4, unit_price="3.00")

    # when
    response = as_im.get("/items", {"ordering": ordering})

    # then
    assert skus(response) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "secret"}, "ordering"),
        ({"below_reorder_level": "maybe"}, "below_reorder_level"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"search": " ".join(["w"] * 11)}, "search"),
        ({"limit": 101}, "limit"),
    ],
)
def test_unreadable_parameters_are_400_naming_them(as_im, params, field):
    # when
    response = as_im.get("/items", params)

    # then
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == [field]


def test_page_and_size(make_item, as_im):
    # given
    for index in range(5):
        make_item(sku=f"P-{index}")

    # when
    response = as_im.get("/items", {"page": 2, "size": 2, "ordering": "sku"})

    # then
    assert skus(response) == ["P-2", "P-3"]
    assert response.json()["meta"] == {"total": 5, "limit": 2, "offset": 2}
