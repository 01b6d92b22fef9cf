"""Checks every service must pass, imported by each service's tests (one home, many runs).

``from common.testing.service_suite import *`` in a service's test module collects them.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from .tokens import auth_client


@pytest.mark.django_db
def test_health_live_and_ready():
    client = APIClient()
    assert client.get("/health/live").json()["data"]["status"] == "ok"
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.content
    assert set(ready.json()["data"]["checks"].values()) == {"ok"}


def test_uses_postgres_in_ci():
    # The test command runs every suite against the local PostgreSQL: fail loudly if not
    # (a service without a database, the gateway, has nothing to check).
    assert os.environ.get("ERP_POSTGRES_URL"), "ERP_POSTGRES_URL is unset: run the suites with scripts/test.sh"
    if settings.DATABASES:
        assert connection.vendor == "postgresql"


def test_every_permission_a_view_names_is_in_the_role_matrix():
    from common.checks import check_view_permissions

    assert check_view_permissions() == []


def test_openapi_schema_validates():
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    validate(response.json())


def test_docs_served_offline():
    response = APIClient().get("/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn." not in response.content and b"unpkg" not in response.content


def test_redoc_served_offline():
    response = APIClient().get("/redoc/")
    assert response.status_code == 200
    assert b"redoc.standalone.js" in response.content
    assert b"fonts.googleapis" not in response.content and b"cdn." not in response.content


def test_unknown_path_is_enveloped_404():
    response = auth_client().get("/no-such-path")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": {"type": "not_found", "message": "Not found.", "details": None}}


def test_request_id_is_echoed_or_made():
    client = APIClient()
    assert client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert len(client.get("/health/live")["X-Request-ID"]) == 36


def test_metrics_exposed():
    response = APIClient().get("/metrics")
    assert response.status_code == 200
    assert b"erp_http_requests_total" in response.content
