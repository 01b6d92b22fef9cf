"""EnvelopePagination: limit/offset or page/size, bounded, with meta totals."""

from datetime import UTC, datetime, timedelta

import pytest

from erp_testkit import auth_client
from tests.project.models import Gadget


@pytest.fixture
def gadgets():
    # Newest first is the default order, so gadget-24 comes first; the times are set
    # one second apart so the order never depends on timer resolution.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = [Gadget.objects.create(name=f"gadget-{n:02}") for n in range(25)]
    for n, gadget in enumerate(made):
        Gadget.objects.filter(pk=gadget.pk).update(created_at=start + timedelta(seconds=n))
    return made


def _names(response) -> list[str]:
    return [gadget["name"] for gadget in response.json()["data"]]


@pytest.mark.django_db
def test_defaults_are_limit_10_offset_0(gadgets):
    response = auth_client().get("/gadgets")

    assert response.status_code == 200
    assert response.json()["meta"] == {"total": 25, "limit": 10, "offset": 0}
    assert _names(response) == [f"gadget-{n:02}" for n in range(24, 14, -1)]


@pytest.mark.django_db
def test_limit_and_offset(gadgets):
    response = auth_client().get("/gadgets", {"limit": 3, "offset": 20})

    assert response.json()["meta"] == {"total": 25, "limit": 3, "offset": 20}
    assert _names(response) == ["gadget-04", "gadget-03", "gadget-02"]


@pytest.mark.django_db
def test_max_limit_is_accepted(gadgets):
    response = auth_client().get("/gadgets", {"limit": 100})

    assert response.json()["meta"] == {"total": 25, "limit": 100, "offset": 0}
    assert len(response.json()["data"]) == 25


@pytest.mark.django_db
def test_offset_past_the_end_is_an_empty_page(gadgets):
    response = auth_client().get("/gadgets", {"offset": 30})

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"] == {"total": 25, "limit": 10, "offset": 30}


@pytest.mark.django_db
def test_page_and_size(gadgets):
    response = auth_client().get("/gadgets", {"page": 3, "size": 4})

    assert response.json()["meta"] == {"total": 25, "limit": 4, "offset": 8}
    assert _names(response) == ["gadget-16", "gadget-15", "gadget-14", "gadget-13"]


@pytest.mark.django_db
def test_page_alone_uses_the_default_size(gadgets):
    response = auth_client().get("/gadgets", {"page": 2})

    assert response.json()["meta"] == {"total": 25, "limit": 10, "offset": 10}


@pytest.mark.django_db
def test_empty_list_has_total_zero():
    response = auth_client().get("/gadgets")

    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": [],
        "meta": {"total": 0, "limit": 10, "offset": 0},
    }


@pytest.mark.django_db
def test_list_makes_two_queries(gadgets, django_assert_num_queries):
    with django_assert_num_queries(2):  # COUNT(*) and the page
        auth_client().get("/gadgets")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "limit", "Must be an integer between 1 and 100."),
        ({"limit": 101}, "limit", "Must be an integer between 1 and 100."),
        ({"limit": "ten"}, "limit", "Must be an integer between 1 and 100."),
        ({"limit": "-1"}, "limit", "Must be an integer between 1 and 100."),
        ({"limit": "1_0"}, "limit", "Must be an integer between 1 and 100."),
        ({"offset": -1}, "offset", "Must be an integer between 0 and 2147483647."),
        ({"offset": "99999999999999999999999"}, "offset", "Must be an integer between 0 and 2147483647."),
        ({"page": 0}, "page", "Must be an integer between 1 and 21474836."),
        ({"page": "1.5"}, "page", "Must be an integer between 1 and 21474836."),
        ({"size": 101}, "size", "Must be an integer between 1 and 100."),
    ],
)
def test_invalid_values_are_400_naming_the_parameter(params, field, message):
    # no database: the window is checked before any query
    response = auth_client().get("/gadgets", params)

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": {
            "type": "validation",
            "message": "Validation failed.",
            "details": [{"field": field, "message": message}],
        },
    }


@pytest.mark.django_db
def test_empty_values_mean_the_default(gadgets):
    response = auth_client().get("/gadgets?limit=&offset=")

    assert response.json()["meta"] == {"total": 25, "limit": 10, "offset": 0}
