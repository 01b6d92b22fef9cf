"""common.filters: any value a client may send is a result or a 400 naming its parameter, never a 500."""

from datetime import UTC, datetime

import django_filters
import pytest
from django.test import RequestFactory
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from common.filters import SearchFilter, datetime_range
from tests.project.models import Gadget

START = datetime(2026, 1, 1, tzinfo=UTC)


class GadgetFilter(django_filters.FilterSet):
    created_after, created_before = datetime_range("created_at")

    class Meta:
        model = Gadget
        fields: list[str] = []


@pytest.fixture
def gadget():
    made = Gadget.objects.create(name="gadget")
    Gadget.objects.filter(pk=made.pk).update(created_at=START)
    return made


def _names(**params) -> list[str]:
    filterset = GadgetFilter(params, queryset=Gadget.objects.all())
    assert filterset.is_valid(), filterset.errors
    return [gadget.name for gadget in filterset.qs]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # PostgreSQL's timestamptz takes offsets up to ±15:59 only; Python reads up to ±23:59
        ({"created_after": "2026-01-01T20:00:00+20:00"}, ["gadget"]),
        ({"created_after": "2026-01-01T20:00:01+20:00"}, []),
        ({"created_before": "2025-12-31T00:01:00-23:59"}, ["gadget"]),
        ({"created_before": "2025-12-31T00:00:59-23:59"}, []),
        # naive: UTC, the platform's time zone
        ({"created_after": "2026-01-01T00:00:00", "created_before": "2026-01-01T00:00:00"}, ["gadget"]),
        ({"created_after": "0001-01-01T00:00:00-05:00"}, ["gadget"]),
    ],
)
def test_a_time_with_any_offset_is_compared_in_utc(gadget, params, expected):
    assert _names(**params) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"],
)
def test_a_time_that_leaves_the_calendar_in_utc_is_invalid_naming_the_parameter(value):
    filterset = GadgetFilter({"created_after": value}, queryset=Gadget.objects.all())

    assert not filterset.is_valid()
    assert filterset.errors == {"created_after": ["Out of range once converted to UTC."]}


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("a\x00b", "Null characters are not allowed."),
        ("w " * 11, "At most 10 words."),
        ("x" * 201, "Ensure this value has at most 200 characters."),
    ],
)
def test_a_search_it_cannot_run_is_invalid_naming_search(search, message):
    request = Request(RequestFactory().get("/gadgets", {"search": search}))

    with pytest.raises(ValidationError) as refused:
        SearchFilter().get_search_terms(request)

    assert refused.value.detail == {"search": [message]}
