"""X-Request-ID: made when absent, kept when valid, replaced when not, and in every log record."""

import io
import json
import logging
import uuid

import pytest
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from common.logging import RequestIDFilter
from common.request_id import accept_or_new, get_request_id, reset_request_id, set_request_id
from common.settings.env import logging_config


def _is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def test_made_when_absent():
    response = APIClient().get("/health/live")

    assert _is_uuid4(response["X-Request-ID"])


@pytest.mark.parametrize("value", ["abc-123", "a" * 128, "4f7c2a:trace.1_x", str(uuid.UUID(int=7))])
def test_accepted_when_valid(value):
    response = APIClient().get("/health/live", HTTP_X_REQUEST_ID=value)

    assert response["X-Request-ID"] == value


@pytest.mark.parametrize(
    "value",
    ["has spaces", "a" * 129, "line\nbreak", "trailing-newline\n", "<script>", "semi;colon", "ünïcode"],
    ids=["spaces", "too-long", "newline", "trailing-newline", "markup", "semicolon", "non-ascii"],
)
def test_replaced_when_invalid(value):
    # when
    new = accept_or_new(value)

    # then
    assert new != value
    assert _is_uuid4(new)


def test_replaced_over_http_when_invalid():
    response = APIClient().get("/health/live", HTTP_X_REQUEST_ID="has spaces")

    assert _is_uuid4(response["X-Request-ID"])


def test_the_context_is_reset_after_the_request():
    APIClient().get("/health/live", HTTP_X_REQUEST_ID="abc-123")

    assert get_request_id() is None


def test_json_log_records_carry_the_request_id():
    # given: a handler built like the services' logging configuration, writing to a buffer
    formatter_config = logging_config()["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(fmt=formatter_config["fmt"], rename_fields=formatter_config["rename_fields"]))
    handler.addFilter(RequestIDFilter())
    logger = logging.getLogger("erp.test.request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    token = set_request_id("req-42")

    # when
    try:
        logger.info("order confirmed")
    finally:
        reset_request_id(token)
    logger.info("outside a request")
    logger.removeHandler(handler)

    # then
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["message"], inside["request_id"], inside["level"], inside["logger"]) == (
        "order confirmed",
        "req-42",
        "INFO",
        "erp.test.request_id",
    )
    assert outside["request_id"] is None


def test_the_logging_config_uses_the_filter_and_json():
    config = logging_config()

    assert config["filters"]["request_id"] == {"()": "common.logging.RequestIDFilter"}
    assert config["handlers"]["stdout"]["filters"] == ["request_id"]
    assert config["formatters"]["json"]["()"] == "pythonjsonlogger.json.JsonFormatter"


def test_filter_keeps_an_explicit_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.request_id = "explicit"

    assert RequestIDFilter().filter(record) is True
    assert record.request_id == "explicit"
