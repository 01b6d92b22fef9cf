"""/health/live and /health/ready."""

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from common import health
from erp_testkit.faults import TcpProxy, wait_until


def _probe_afresh() -> None:
    """Forget the broker's status, then wait for a fresh probe (one may outlast a request's budget)."""
    health._broker_cache = (0.0, "")
    wait_until(lambda: health.broker_status() != "down: timeout", message="a broker probe")


def check_ok():
    """A readiness check that passes."""


def check_payments():
    raise ConnectionRefusedError("payments down")


def test_live_needs_no_token():
    response = APIClient().get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "OK", "data": {"service": "commontest", "status": "ok"}}


def test_ready_is_200_when_every_check_passes_and_reports_what_it_does_not_depend_on(settings):
    # given: the database is out of reach of this test, so the outbox figures cannot be read
    settings.ERP = {**settings.ERP, "READINESS_CHECKS": ["tests.test_health.check_ok"]}
    _probe_afresh()

    # when
    response = APIClient().get("/health/ready")

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {
        "service": "commontest",
        "status": "ok",
        "checks": {"ok": "ok"},
        "dependencies": {"broker": "ok", "outbox": "down: RuntimeError"},
    }


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
def test_ready_checks_the_real_database_and_reports_the_broker_and_outbox():
    # given
    _probe_afresh()

    # when
    response = APIClient().get("/health/ready")

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {
        "service": "commontest",
        "status": "ok",
        "checks": {"database": "ok", "access_withdrawals": "ok"},
        "dependencies": {"broker": "ok", "outbox": {"pending": 0, "oldest_pending_age_seconds": None}},
    }


@pytest.mark.django_db(transaction=True)
def test_ready_is_503_within_the_connect_timeout_when_the_database_answers_nothing():
    # given: the database behind a proxy that accepts connections and never answers
    proxy = TcpProxy(target=(connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"])))
    proxy.blackhole(new="freeze")
    connection.close()
    original_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = proxy.port
    answers: list = []
    try:
        # when
        started = time.monotonic()
        asking = threading.Thread(target=lambda: answers.append(APIClient().get("/health/ready")), daemon=True)
        asking.start()
        asking.join(timeout=15)
        waited = time.monotonic() - started
    finally:
        connection.settings_dict["PORT"] = original_port
        proxy.close()
    # then: not ready, said within the connect timeout instead of hanging on the handshake
    assert not asking.is_alive(), "the readiness check hung on a database that does not answer"
    assert answers[0].status_code == 503
    assert answers[0].json()["error"]["details"] == [{"field": "database", "message": "down: OperationalError"}]
    assert waited < 12.0  # well under the 15 s a hung handshake would take, with room for a loaded machine


# What the gateway gives each service's /health/ready (GATEWAY_HEALTH_TIMEOUT's default, gateway/config/settings.py).
GATEWAY_HEALTH_TIMEOUT = 2.0


@pytest.fixture
def blackholed_broker_client(settings):
    """An HTTP client with the gateway's timeout; the broker behind a proxy that swallows every byte."""
    import urllib3

    assert settings.BROKER_URL.startswith("amqp://"), "this test needs RabbitMQ (ERP_TEST_BROKER_URL)"
    parts = urllib3.util.parse_url(settings.BROKER_URL)
    proxy = TcpProxy(target=(parts.host, parts.port or 5672))
    settings.BROKER_URL = proxy.url(settings.BROKER_URL)
    proxy.blackhole(new="freeze")
    health._broker_cache = (0.0, "")
    try:
        yield urllib3.PoolManager(timeout=urllib3.Timeout(connect=GATEWAY_HEALTH_TIMEOUT, read=GATEWAY_HEALTH_TIMEOUT))
    finally:
        proxy.close()
        health._broker_cache = (0.0, "")


@pytest.mark.django_db(transaction=True)
def test_ready_answers_within_the_gateway_s_timeout_while_the_broker_link_is_blackholed(
    live_server, blackholed_broker_client
):
    # given: the broker reached through a proxy that swallows every byte (a half-open link)
    http = blackholed_broker_client
    # when: the gateway asks three times in a row, as its /health does under load
    answers = [http.request("GET", f"{live_server.url}/health/ready", retries=False) for _ in range(3)]
    # then: ready every time, the broker reported down, never waited for
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert all(answer.json()["data"]["dependencies"]["broker"].startswith("down: ") for answer in answers)


@pytest.mark.django_db(transaction=True)
def test_metrics_answer_within_a_scrape_timeout_while_the_broker_link_is_blackholed(
    live_server, blackholed_broker_client
):
    # given: the broker reached through a proxy that swallows every byte (a half-open link)
    http = blackholed_broker_client
    # when: scraped three times in a row
    answers = [http.request("GET", f"{live_server.url}/metrics", retries=False) for _ in range(3)]
    # then: every scrape answered within the timeout, the broker down
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert ["erp_broker_up 0.0" in answer.data.decode() for answer in answers] == [True, True, True]
