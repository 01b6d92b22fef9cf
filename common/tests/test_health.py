"""/health/live and /health/ready."""

import pytest
from rest_framework.test import APIClient


def check_ok():
    """A readiness check that passes."""


def check_payments():
    raise ConnectionRefusedError("payments down")


def test_live_needs_no_token():
    response = APIClient().get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "data": {"service": "commontest", "status": "ok"}}


def test_ready_is_200_when_every_check_passes(settings):
    settings.ERP = {**settings.ERP, "READINESS_CHECKS": ["tests.test_health.check_ok"]}

    response = APIClient().get("/health/ready")

    assert response.status_code == 200
    assert response.json()["data"] == {"service": "commontest", "status": "ok", "checks": {"ok": "ok"}}


def test_ready_is_503_naming_the_failing_check(settings):
    # given
    settings.ERP = {
        **settings.ERP,
        "READINESS_CHECKS": ["tests.test_health.check_ok", "tests.test_health.check_payments"],
    }

    # when
    response = APIClient().get("/health/ready")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "error": {
            "type": "upstream_unavailable",
            "message": "Not ready.",
            "details": [{"field": "payments", "message": "down: ConnectionRefusedError"}],
        },
    }


def test_a_check_that_cannot_be_imported_is_reported_down(settings):
    settings.ERP = {**settings.ERP, "READINESS_CHECKS": ["tests.test_health.check_missing"]}

    response = APIClient().get("/health/ready")

    assert response.status_code == 503
    assert response.json()["error"]["details"] == [{"field": "missing", "message": "down: ImportError"}]


@pytest.mark.django_db
def test_ready_checks_the_real_database_and_broker():
    response = APIClient().get("/health/ready")

    assert response.status_code == 200
    assert response.json()["data"]["checks"]["database"] == "ok"
    assert response.json()["data"]["checks"]["broker"] == "ok"
