"""The gateway writes one JSON access line per proxied request, naming the token's user."""

import logging
import uuid

from django.test import Client

from erp_testkit import issue_token
from erp_testkit.service_checks import access_log_lines


def test_a_proxied_request_is_logged_with_its_user_and_without_its_secrets(upstreams, caplog):
    # given
    caplog.set_level(logging.INFO, logger="erp.access")
    user_id = str(uuid.uuid4())
    token = issue_token(role="admin", user_id=user_id)

    # when
    response = Client().get(
        "/api/customers?reset_token=query-secret", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="gw-1"
    )

    # then
    assert response.status_code == 200
    [line] = access_log_lines(caplog)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/customers", 200)
    assert (line["request_id"], line["user_id"]) == ("gw-1", user_id)
    assert "query-secret" not in str(line) and token not in str(line)


def test_a_refused_token_is_logged_without_a_user(upstreams, caplog):
    # given
    caplog.set_level(logging.INFO, logger="erp.access")

    # when
    Client().get("/api/customers", HTTP_AUTHORIZATION="Bearer not-a-token")

    # then
    [line] = access_log_lines(caplog)
    assert (line["path"], line["status"], line["user_id"]) == ("/api/customers", 401, None)
