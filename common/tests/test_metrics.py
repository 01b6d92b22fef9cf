"""/metrics and the request counter."""

import pytest
from rest_framework.test import APIClient

from common.metrics import REQUESTS


def _count(method: str, status: str) -> float:
    return REQUESTS.labels(method, status)._value.get()


@pytest.mark.django_db
def test_answered_requests_are_counted():
    # given
    before = _count("GET", "200")

    # when
    APIClient().get("/health/live")

    # then
    assert _count("GET", "200") == before + 1
    assert b'erp_http_requests_total{method="GET",status="200"}' in APIClient().get("/metrics").content


@pytest.mark.django_db
def test_unknown_methods_share_one_label():
    # given
    before = _count("other", "405")

    # when: a client invents methods
    APIClient().generic("BREW", "/health/live")
    APIClient().generic("XYZZY", "/health/live")

    # then: they do not each get a time series
    assert _count("other", "405") == before + 2
    assert b'method="BREW"' not in APIClient().get("/metrics").content
