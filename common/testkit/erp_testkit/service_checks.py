"""The checks every service passes, as helpers: each service's ``config/tests/test_platform.py`` runs them.

One home for what a check asserts (health, schema, docs, envelopes, request ids, access
log, metrics, admin roles) and one list of them, :data:`EVERY_SERVICE_CHECK`, which the one
test of each service's ``test_platform.py`` is parametrised over; a service without a
database or admin (the gateway) calls the helpers that fit it from test functions of its own.
Nothing here is collected: no ``test_*`` names.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from functools import partial
from urllib.parse import urljoin

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from common.checks import check_view_permissions

from .tokens import auth_client


def access_log_lines(caplog) -> list[dict]:
    """The access-log records captured, as the JSON lines the service's stdout handler writes."""
    handler = next(h for h in logging.getLogger().handlers if type(h.formatter).__name__ == "JsonFormatter")
    return [json.loads(handler.format(r)) for r in caplog.records if r.name == "erp.access"]


def assert_health_live_and_ready() -> None:
    client = APIClient()
    assert client.get("/health/live").json()["data"]["status"] == "ok"
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.content
    assert set(ready.json()["data"]["checks"].values()) == {"ok"}


def assert_uses_postgres() -> None:
    # The test command runs every suite against the local PostgreSQL: fail loudly if not
    # (a service without a database, the gateway, has nothing to check).
    assert os.environ.get("ERP_POSTGRES_URL"), "ERP_POSTGRES_URL is unset: run the suites with scripts/test.sh"
    if settings.DATABASES:
        assert connection.vendor == "postgresql"


def assert_system_checks_pass() -> None:
    # Includes the event wiring (common.events.checks): handlers match subscriptions.
    call_command("check", fail_level="ERROR")


def assert_every_view_permission_is_in_the_role_matrix() -> None:
    assert check_view_permissions() == []


def assert_openapi_schema_validates() -> None:
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    validate(response.json())


def assert_openapi_schema_has_no_warnings(tmp_path) -> None:
    # drf-spectacular's own gate: a field it cannot type or two enums with one name warn, and
    # a generated client then gets ``str`` or a made-up name where the contract has a type.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


_SCRIPT_SRC = re.compile(rb'<script[^>]*\ssrc="([^"]+)"')
# An element a script makes whose ``src`` is on another host (a link's href is not fetched).
_SRC_ELSEWHERE = re.compile(rb"""\bsrc\s*[:=]\s*["'](?:https?:)?//""")


def docs_page_scripts(url: str) -> tuple[bytes, dict[str, bytes]]:
    """Return a docs page and every script it loads (fetched from the same server), asserting all answer 200."""
    client = APIClient()
    page = client.get(url)
    assert page.status_code == 200, url
    scripts = {}
    for src in _SCRIPT_SRC.findall(page.content):
        response = client.get(urljoin(url, src.decode()))
        assert response.status_code == 200, src
        scripts[src.decode()] = b"".join(response.streaming_content) if response.streaming else response.content
    return page.content, scripts


def assert_docs_load_only_from_the_platform(url: str) -> dict[str, bytes]:
    """No absolute URL in the page (its inline JS config included), none fetched by the scripts it loads."""
    page, scripts = docs_page_scripts(url)
    assert b"http://" not in page and b"https://" not in page and b'="//' not in page
    for src, body in scripts.items():
        assert not src.startswith(("http:", "https:", "//")), src
        assert not _SRC_ELSEWHERE.search(body), (src, _SRC_ELSEWHERE.search(body))
    return scripts


def assert_docs_served_offline() -> None:
    scripts = assert_docs_load_only_from_the_platform("/docs/")
    assert any("swagger-ui-bundle.js" in src for src in scripts)
    # Swagger UI's default would send the schema's address to validator.swagger.io for a badge.
    assert b'"validatorUrl": null' in APIClient().get("/docs/").content


def assert_redoc_served_offline() -> None:
    scripts = assert_docs_load_only_from_the_platform("/redoc/")
    assert list(scripts) == ["redoc.standalone.js"]


def assert_unknown_path_is_enveloped_404() -> None:
    response = auth_client().get("/no-such-path")
    assert response.status_code == 404
    # Rendered as DRF renders every other answer (compact), though Django's handler404 answers it.
    assert response.content == b'{"status":404,"error":{"type":"not_found","message":"Not found.","details":null}}'


def assert_post_is_the_envelopes_405(response) -> None:
    """The 405 a DRF view answers to a POST, rendered the services' way."""
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    message = json.dumps('Method "POST" not allowed.').encode()
    assert (
        response.content
        == b'{"status":405,"error":{"type":"method_not_allowed","message":%s,"details":null}}' % message
    )


# The pages a service renders as YAML or HTML.
DOC_PAGES = ("/schema/", "/docs/", "/redoc/")


def assert_a_post_to_a_doc_page_is_the_envelopes_405(path: str) -> None:
    """A page rendered as YAML or HTML still refuses a method in JSON, as every endpoint does."""
    assert_post_is_the_envelopes_405(APIClient().post(path, data={}, format="json"))


# A static asset every service serves (the docs' sidecar), and the plain Django views beside the API.
STATIC_ASSET = "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"
READ_ONLY_PAGES = ("/metrics", "/redoc/redoc.standalone.js", STATIC_ASSET)


def assert_a_post_to_a_page_that_only_reads_is_the_envelopes_405(path: str) -> None:
    # given: a POST with no CSRF token, as any client but a browser's form sends it
    client = APIClient(enforce_csrf_checks=True)

    # when
    response = client.post(path, data={}, format="json")

    # then: neither Django's HTML CSRF page nor WhiteNoise's empty 405
    assert_post_is_the_envelopes_405(response)
    assert response["Allow"] == "GET, HEAD"
    assert client.get(path).status_code == 200


def assert_request_id_is_echoed_or_made() -> None:
    client = APIClient()
    assert client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert len(client.get("/health/live")["X-Request-ID"]) == 36


def assert_metrics_exposed() -> None:
    """/metrics answers, with the outbox gauges where the service has events (they read the database)."""
    response = APIClient().get("/metrics")
    assert response.status_code == 200
    assert b"erp_http_requests_total" in response.content
    assert (b"erp_outbox_pending " in response.content) == apps.is_installed("common.events")


def assert_every_request_writes_one_json_access_line(caplog) -> None:
    # given
    caplog.set_level(logging.INFO, logger="erp.access")

    # when a query string carries a secret
    APIClient().get("/health/live?token=secret-in-query", HTTP_X_REQUEST_ID="req-42", HTTP_COOKIE="s=cookie-secret")

    # then one line, with the fields and without the query string or any header
    [line] = access_log_lines(caplog)
    assert isinstance(line.pop("duration_ms"), float)
    assert isinstance(line.pop("time"), str)
    assert line == {
        "level": "INFO",
        "logger": "erp.access",
        "message": "request",
        "method": "GET",
        "path": "/health/live",
        "status": 200,
        "request_id": "req-42",
        "user_id": None,
    }


def assert_every_admin_and_action_follows_the_role_matrix() -> None:
    # Imported here: the gateway, which uses the other checks, has no admin to import.
    from .admin import admin_matrix_problems

    # Completeness (each admin, inline and action names its matrix permission) and, for
    # each role and for nobody, exactly what the matrix grants.
    assert admin_matrix_problems() == []


def assert_no_admin_form_edits_a_status_a_quantity_or_a_total() -> None:
    from .admin import editable_field_problems

    assert editable_field_problems() == []


def _check(name: str, assertion: Callable[..., None], *fixtures: str):
    """One parameter of a service's platform test: ``assertion`` run with the named pytest fixtures."""
    return pytest.param(assertion, fixtures, id=name)


# Every check a service with a database and an admin passes, named as its test was. A
# service's config/tests/test_platform.py runs one test over them:
#
#     @pytest.mark.django_db
#     @pytest.mark.parametrize(("assertion", "fixtures"), EVERY_SERVICE_CHECK)
#     def test_the_service_passes(assertion, fixtures, request):
#         assertion(*(request.getfixturevalue(name) for name in fixtures))
EVERY_SERVICE_CHECK = [
    _check("health_live_and_ready", assert_health_live_and_ready),
    _check("uses_postgres_in_ci", assert_uses_postgres),
    _check("system_checks_pass", assert_system_checks_pass),
    _check("every_permission_a_view_names_is_in_the_role_matrix", assert_every_view_permission_is_in_the_role_matrix),
    _check("openapi_schema_validates", assert_openapi_schema_validates),
    _check("openapi_schema_has_no_warnings", assert_openapi_schema_has_no_warnings, "tmp_path"),
    _check("docs_served_offline", assert_docs_served_offline),
    _check("redoc_served_offline", assert_redoc_served_offline),
    _check("unknown_path_is_enveloped_404", assert_unknown_path_is_enveloped_404),
    *(
        _check(
            f"a_post_to_the_doc_page_{path}_is_the_envelopes_405",
            partial(assert_a_post_to_a_doc_page_is_the_envelopes_405, path),
        )
        for path in DOC_PAGES
    ),
    *(
        _check(
            f"a_post_to_{path}_which_only_reads_is_the_envelopes_405",
            partial(assert_a_post_to_a_page_that_only_reads_is_the_envelopes_405, path),
        )
        for path in READ_ONLY_PAGES
    ),
    _check("request_id_is_echoed_or_made", assert_request_id_is_echoed_or_made),
    _check("metrics_exposed", assert_metrics_exposed),
    _check("every_request_writes_one_json_access_line", assert_every_request_writes_one_json_access_line, "caplog"),
    _check("every_admin_and_action_follows_the_role_matrix", assert_every_admin_and_action_follows_the_role_matrix),
    _check(
        "no_admin_form_edits_a_status_a_quantity_or_a_total", assert_no_admin_form_edits_a_status_a_quantity_or_a_total
    ),
]
