"""``/health``: 200 when every upstream is ready, 503 naming each one's status otherwise."""

from django.test import Client

from proxy import health

from .conftest import SERVICES, closed_port_url


def test_health_is_200_when_every_upstream_is_ready(upstreams):
    # when
    response = Client().get("/health", HTTP_X_REQUEST_ID="health-1")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": 200,
        "message": "OK",
        "data": {"service": "gateway", "status": "ok", "upstreams": dict.fromkeys(SERVICES, "ok")},
    }
    assert all([r.target for r in fake.received] == ["/health/ready"] for fake in upstreams.values())
    assert upstreams["sales"].received[0].header("X-Request-ID") == "health-1"


def test_health_is_503_when_one_upstream_is_down_or_not_ready(upstreams, settings):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "sales": closed_port_url()}}
    upstreams["purchase"].ready = False

    # when
    response = Client().get("/health", HTTP_AUTHORIZATION="Bearer garbage")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "error": {
            "type": "upstream_unavailable",
            "message": "Not every service is ready.",
            "details": [
                {"field": "contact", "message": "ok"},
                {"field": "auth", "message": "ok"},
                {"field": "inventory", "message": "ok"},
                {"field": "sales", "message": "down: unreachable"},
                {"field": "purchase", "message": "down: HTTP 503"},
            ],
        },
    }


def test_health_reports_a_hung_upstream_as_timeout(upstreams, settings, unaccepting_url):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "auth": unaccepting_url}}

    # when
    response = Client().get("/health")

    # then
    assert response.status_code == 503
    assert {"field": "auth", "message": "down: timeout"} in response.json()["error"]["details"]


def test_gateway_live_and_ready_need_no_upstream(settings):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "UPSTREAMS": dict.fromkeys(SERVICES, closed_port_url())}

    # when
    live, ready = Client().get("/health/live"), Client().get("/health/ready")

    # then
    assert live.json()["data"] == {"service": "gateway", "status": "ok"}
    assert ready.status_code == 200


def test_a_flood_of_health_requests_asks_each_upstream_once_a_second(upstreams, monkeypatch):
    # given: /health is never rate limited, and a clock the test moves
    now = [500.0]
    monkeypatch.setattr(health, "clock", lambda: now[0])

    # when: fifty requests within the same second, then one a second later
    answers = [Client().get("/health").status_code for _ in range(50)]
    first_round = {name: len(fake.received) for name, fake in upstreams.items()}
    now[0] += health.STATUSES_REUSED_SECONDS
    answers.append(Client().get("/health").status_code)

    # then: every answer is the 200, from one readiness check per upstream and second
    assert answers == [200] * 51
    assert first_round == dict.fromkeys(SERVICES, 1)
    assert {name: len(fake.received) for name, fake in upstreams.items()} == dict.fromkeys(SERVICES, 2)


def test_a_service_going_down_shows_in_health_after_a_second(upstreams, monkeypatch):
    # given: a healthy answer just given
    now = [500.0]
    monkeypatch.setattr(health, "clock", lambda: now[0])
    assert Client().get("/health").status_code == 200

    # when: sales stops being ready
    upstreams["sales"].ready = False
    within_the_second = Client().get("/health").status_code
    now[0] += health.STATUSES_REUSED_SECONDS
    after_it = Client().get("/health")

    # then
    assert within_the_second == 200
    assert after_it.status_code == 503
    assert {"field": "sales", "message": "down: HTTP 503"} in after_it.json()["error"]["details"]
