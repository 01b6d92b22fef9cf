"""The access log names the user DRF authenticated, and nothing the request carried in secret."""

import logging
import uuid

import pytest
from rest_framework.test import APIClient

from erp_testkit import auth_client
from erp_testkit.service_checks import access_log_lines


@pytest.mark.django_db
def test_an_authenticated_request_is_logged_with_its_user_id(caplog):
    # given
    caplog.set_level(logging.INFO, logger="erp.access")
    user_id = str(uuid.uuid4())
    client = auth_client(role="admin", user_id=user_id)

    # when
    response = client.get("/gadgets?search=x&token=query-secret", HTTP_X_REQUEST_ID="req-7")

    # then
    assert response.status_code == 200
    [line] = access_log_lines(caplog)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/gadgets", 200)
    assert (line["request_id"], line["user_id"]) == ("req-7", user_id)
    assert line["duration_ms"] > 0
    assert "query-secret" not in str(line) and "Bearer" not in str(line)


@pytest.mark.django_db
def test_a_refused_request_is_logged_with_its_status_and_no_user(caplog):
    # given
    caplog.set_level(logging.INFO, logger="erp.access")

    # when
    APIClient().get("/gadgets", HTTP_AUTHORIZATION="Bearer not-a-token")

    # then
    [line] = access_log_lines(caplog)
    assert (line["path"], line["status"], line["user_id"]) == ("/gadgets", 401, None)
