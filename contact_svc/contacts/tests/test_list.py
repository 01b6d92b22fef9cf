"""The contact lists: pagination, search, filters, ordering, bad parameters, query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def at(kind, contact, days: int):
    """Pin created_at (auto_now_add ignores what a factory passes)."""
    kind.model.objects.filter(pk=contact.pk).update(created_at=T0 + dt.timedelta(days=days))
    contact.refresh_from_db()
    return contact


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["data"]]


def test_list_is_newest_first_with_meta(kind, url, make, as_im):
    # given
    for name, days in (("old", 0), ("new", 2), ("middle", 1)):
        at(kind, make(name=name), days)

    # when
    response = as_im.get(url())

    # then
    assert response.status_code == 200
    payload = response.json()
    assert names(response) == ["new", "middle", "old"]
    assert payload["meta"] == {"total": 3, "limit": 10, "offset": 0}
    assert payload["status"] == 200
    assert set(payload["data"][0]) == {"id", "name", "email", "phone", "address", "active", "created_at", "updated_at"}


def test_list_of_nothing_is_an_empty_array(url, as_admin):
    # when
    response = as_admin.get(url())

    # then
    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": [],
        "meta": {"total": 0, "limit": 10, "offset": 0},
    }


def test_list_paginates_with_limit_and_offset(kind, url, make, as_admin):
    # given
    for day in range(5):
        at(kind, make(name=f"c{day}"), day)

    # when
    response = as_admin.get(url(), {"limit": 2, "offset": 1})

    # then
    assert names(response) == ["c3", "c2"]
    assert response.json()["meta"] == {"total": 5, "limit": 2, "offset": 1}


def test_list_paginates_with_page_and_size(kind, url, make, as_admin):
    # given
    for day in range(5):
        at(kind, make(name=f"c{day}"), day)

    # when
    response = as_admin.get(url(), {"page": 3, "size": 2})

    # then
    assert names(response) == ["c0"]
    assert response.json()["meta"] == {"total": 5, "limit": 2, "offset": 4}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"ordering": "phone"}, "ordering"),
        ({"ordering": "name,nope"}, "ordering"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2024-13-45"}, "created_before"),
        ({"search": " ".join(["word"] * 11)}, "search"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_list_bad_parameter_is_400_naming_it(url, make, as_admin, query, field):
    # given
    make()

    # when
    response = as_admin.get(url(), query)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "validation"
    assert [detail["field"] for detail in error["details"]] == [field]


def test_list_searches_name_and_email_case_insensitively(kind, url, make, as_admin):
    # given
    make(name="Acme Retail", email="buy@acme.example")
    make(name="Bolt Works", email="shop@retail-hub.example")
    make(name="Cog Co", email="info@cog.example")

    # when
    response = as_admin.get(url(), {"search": "RETAIL", "ordering": "name"})

    # then
    assert names(response) == ["Acme Retail", "Bolt Works"]
    assert response.json()["meta"]["total"] == 2


def test_list_search_requires_every_word(url, make, as_admin):
    # given
    make(name="Acme Retail", email="buy@acme.example")
    make(name="Acme Tools", email="tools@acme.example")

    # when
    response = as_admin.get(url(), {"search": "acme retail"})

    # then
    assert names(response) == ["Acme Retail"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie"]),
        ("-name", ["charlie", "bravo", "alpha"]),
        ("email", ["bravo", "charlie", "alpha"]),
        ("created_at", ["charlie", "alpha", "bravo"]),
        ("-created_at", ["bravo", "alpha", "charlie"]),
    ],
)
def test_list_orders_by_the_allowed_fields(kind, url, make, as_admin, ordering, expected):
    # given
    at(kind, make(name="alpha", email="c@example.com"), 1)
    at(kind, make(name="bravo", email="a@example.com"), 2)
    at(kind, make(name="charlie", email="b@example.com"), 0)

    # when
    response = as_admin.get(url(), {"ordering": ordering})

    # then
    assert response.status_code == 200
    assert names(response) == expected


def test_list_orders_by_updated_at(kind, url, make, as_admin):
    # given
    first = make(name="first")
    make(name="second")
    kind.model.objects.filter(pk=first.pk).update(updated_at=timezone.now() + dt.timedelta(hours=1))

    # when
    response = as_admin.get(url(), {"ordering": "-updated_at"})

    # then
    assert names(response) == ["first", "second"]


def test_list_filters_by_email_case_insensitively(url, make, as_admin):
    # given
    make(name="wanted", email="wanted@example.com")
    make(name="other", email="other@example.com")

    # when
    response = as_admin.get(url(), {"email": "Wanted@Example.com"})

    # then
    assert names(response) == ["wanted"]


def test_list_filters_by_creation_window_inclusive(kind, url, make, as_admin):
    # given
    for day in range(5):
        at(kind, make(name=f"d{day}"), day)

    # when
    response = as_admin.get(
        url(), {"created_after": "2024-01-02T00:00:00Z", "created_before": "2024-01-04", "ordering": "created_at"}
    )

    # then
    assert names(response) == ["d1", "d2", "d3"]


def test_list_query_count_does_not_grow_with_rows(url, make, as_admin, django_assert_num_queries):
    # given
    make.create_batch(25)

    # when: one COUNT for meta and one SELECT for the page, whatever the filters
    with django_assert_num_queries(2):
        response = as_admin.get(url(), {"limit": 20, "search": "example", "ordering": "-name"})

    # then
    assert len(response.json()["data"]) == 20
