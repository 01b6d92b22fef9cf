"""The checks every service passes: health, schema, docs, envelopes, request ids, logs, metrics, admin roles.

Each asserts through a helper of :mod:`erp_testkit.service_checks`, the one home of what it checks.
"""

import pytest

from erp_testkit import service_checks as checks
from erp_testkit.admin import admin_matrix_problems, editable_field_problems


@pytest.mark.django_db
def test_health_live_and_ready():
    checks.assert_health_live_and_ready()


def test_uses_postgres_in_ci():
    checks.assert_uses_postgres()


def test_system_checks_pass():
    checks.assert_system_checks_pass()


def test_every_permission_a_view_names_is_in_the_role_matrix():
    checks.assert_every_view_permission_is_in_the_role_matrix()


def test_openapi_schema_validates():
    checks.assert_openapi_schema_validates()


def test_openapi_schema_has_no_warnings(tmp_path):
    checks.assert_openapi_schema_has_no_warnings(tmp_path)


def test_docs_served_offline():
    checks.assert_docs_served_offline()


def test_redoc_served_offline():
    checks.assert_redoc_served_offline()


def test_unknown_path_is_enveloped_404():
    checks.assert_unknown_path_is_enveloped_404()


@pytest.mark.parametrize("path", checks.DOC_PAGES)
def test_schema_and_docs_answer_errors_in_the_envelope(path):
    checks.assert_a_post_to_a_doc_page_is_the_envelopes_405(path)


@pytest.mark.parametrize("path", checks.READ_ONLY_PAGES)
def test_a_post_to_a_page_that_only_reads_is_the_envelopes_405(path):
    checks.assert_a_post_to_a_page_that_only_reads_is_the_envelopes_405(path)


def test_request_id_is_echoed_or_made():
    checks.assert_request_id_is_echoed_or_made()


@pytest.mark.django_db
def test_metrics_exposed():
    checks.assert_metrics_exposed()


def test_every_request_writes_one_json_access_line(caplog):
    checks.assert_every_request_writes_one_json_access_line(caplog)


@pytest.mark.django_db
def test_every_admin_and_action_follows_the_role_matrix():
    # Completeness (each admin, inline and action names its matrix permission) and, for
    # each role and for nobody, exactly what the matrix grants.
    assert admin_matrix_problems() == []


@pytest.mark.django_db
def test_no_admin_form_edits_a_status_a_quantity_or_a_total():
    assert editable_field_problems() == []
