"""The verified-token cache: faster for a token seen before, never more lenient than verifying."""

import base64
import json
import time

import pytest
from django.test import Client

from common import withdrawals
from common.withdrawals import Withdrawal
from erp_testkit import issue_token
from proxy import tokens


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _reencoded(token: str, **changes) -> str:
    """The token with its payload changed and the original signature kept (a forgery)."""
    header, _, signature = token.split(".")
    payload = json.dumps({**_claims_of(token), **changes}, separators=(",", ":")).encode()
    return ".".join([header, base64.urlsafe_b64encode(payload).rstrip(b"=").decode(), signature])


def test_a_verified_token_is_served_from_the_cache(monkeypatch):
    # given
    token = issue_token(role="finance_manager")
    first = tokens.verified_claims(_bearer(token))

    # when: verification would now fail
    monkeypatch.setattr(tokens, "authenticate_header_value", lambda value: pytest.fail("verified again"))
    second = tokens.verified_claims(_bearer(token))

    # then
    assert first == second == _claims_of(token)
    assert len(tokens.cache()) == 1


def test_an_expired_cached_token_is_rejected(upstreams, monkeypatch):
    # given: a token verified and cached while valid
    token = issue_token(role="admin", lifetime=60)
    exp = _claims_of(token)["exp"]
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token)).status_code == 200
    upstreams["contact"].received.clear()

    # when: the clock reaches exp (PyJWT refuses from exp on, leeway 0)
    monkeypatch.setattr(tokens, "_now", lambda: float(exp))
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token))

    # then
    assert response.status_code == 401
    assert not upstreams["contact"].received
    assert len(tokens.cache()) == 0  # forgotten


def test_an_expired_cached_token_is_rejected_one_second_before_is_not(monkeypatch):
    # given
    token = issue_token(role="admin", lifetime=60)
    exp = _claims_of(token)["exp"]
    assert tokens.verified_claims(_bearer(token)) is not None

    # when / then
    monkeypatch.setattr(tokens, "_now", lambda: exp - 1.0)
    assert tokens.verified_claims(_bearer(token)) is not None
    monkeypatch.setattr(tokens, "_now", lambda: exp + 3600.0)
    assert tokens.verified_claims(_bearer(token)) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: _reencoded(token, role="admin"),
        lambda token: _reencoded(token, exp=_claims_of(token)["exp"] + 86400),
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token + "x",
        lambda token: token.rsplit(".", 1)[0] + ".",
    ],
    ids=["role-raised", "exp-extended", "signature-changed", "appended", "signature-dropped"],
)
def test_a_tampered_token_is_never_served_from_the_cache(upstreams, tamper):
    # given: the genuine token is verified and cached
    token = issue_token(role="inventory_manager")
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token)).status_code == 200
    upstreams["contact"].received.clear()

    # when
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(tamper(token)))

    # then
    assert response.status_code == 401
    assert not upstreams["contact"].received
    assert len(tokens.cache()) == 1  # only the genuine one


def test_invalid_tokens_are_not_cached():
    # when
    for token in ("not-a-jwt", issue_token(role="admin", lifetime=-10), issue_token(role="admin", aud="other")):
        assert tokens.verified_claims(_bearer(token)) is None

    # then
    assert len(tokens.cache()) == 0


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(settings, monkeypatch):
    # given: room for two
    settings.GATEWAY = {**settings.GATEWAY, "TOKEN_CACHE_SIZE": 2}
    tokens.clear_cache()
    first, second, third = (issue_token(role="admin") for _ in range(3))
    tokens.verified_claims(_bearer(first))
    tokens.verified_claims(_bearer(second))
    tokens.verified_claims(_bearer(first))  # first is now the most recently used

    # when
    tokens.verified_claims(_bearer(third))

    # then: second was dropped, first was kept
    assert len(tokens.cache()) == 2
    calls = []
    real = tokens.authenticate_header_value
    monkeypatch.setattr(tokens, "authenticate_header_value", lambda value: calls.append(value) or real(value))
    assert tokens.verified_claims(_bearer(first)) is not None
    assert calls == []
    assert tokens.verified_claims(_bearer(second)) is not None
    assert calls == [_bearer(second)]


def test_a_zero_size_turns_the_cache_off(settings):
    # given
    settings.GATEWAY = {**settings.GATEWAY, "TOKEN_CACHE_SIZE": 0}
    tokens.clear_cache()

    # when
    assert tokens.verified_claims(_bearer(issue_token(role="admin"))) is not None

    # then
    assert len(tokens.cache()) == 0


# ---------------------------------------------------------------- withdrawn access (common.withdrawals)

USER = "5b0c1f8e-0000-4000-8000-0000000000bb"


def test_a_cached_token_whose_access_was_withdrawn_since_is_refused(upstreams, access_withdrawals):
    # given: a token verified and cached while its user's access stood
    token = issue_token(role="finance_manager", user_id=USER)
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token)).status_code == 200
    upstreams["contact"].received.clear()

    # when: auth_svc withdraws the user's access, and the map learns it
    access_withdrawals.rows.append(Withdrawal(USER, 1, time.time()))
    access_withdrawals.sync()
    old = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token))
    fresh = issue_token(role="finance_manager", user_id=USER, access_version=1)
    newer = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(fresh))

    # then: the older token is the one 401 and goes nowhere; one minted after is served
    assert old.status_code == 401
    assert old.json()["error"] == {"type": "unauthorized", "message": "Invalid or expired token.", "details": None}
    assert len(upstreams["contact"].received) == 1
    assert newer.status_code == 200


def test_a_gateway_that_never_fetched_the_withdrawals_answers_503_and_is_not_ready(upstreams, monkeypatch):
    # given: a gateway just started while auth_svc cannot be reached
    def unreachable(*, since):
        raise ConnectionError("auth_svc is away")

    monkeypatch.setattr(withdrawals, "FIRST_SYNC_WAIT", 0.2)
    withdrawals.install(
        withdrawals.AccessWithdrawals(unreachable, poll_seconds=0.05, max_age_seconds=5.0, backoff_max_seconds=1.0)
    )

    # when
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(issue_token(role="finance_manager")))
    ready = Client().get("/health/ready")

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert not upstreams["contact"].received
    assert ready.status_code == 503


def test_a_cached_token_is_not_served_once_the_withdrawals_are_too_old(upstreams):
    # given: a token verified and cached by a gateway whose map was fetched at 100 s
    clock, answering = [100.0], [True]

    def source(*, since):
        if not answering[0]:
            raise ConnectionError("auth_svc is away")
        return withdrawals.Window([], None)

    table = withdrawals.AccessWithdrawals(
        source, poll_seconds=2.0, max_age_seconds=5.0, backoff_max_seconds=10.0, clock=lambda: clock[0]
    )
    table.sync()
    withdrawals.install(table)
    token = issue_token(role="finance_manager", user_id=USER)
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token)).status_code == 200
    upstreams["contact"].received.clear()

    # when: auth_svc stops answering, and the last success becomes 5 s old
    answering[0] = False
    clock[0] = 105.0
    table.sync()
    response = Client().get("/api/customers", HTTP_AUTHORIZATION=_bearer(token))
    ready = Client().get("/health/ready")

    # then: a 503 that goes nowhere (not an answer from the cache), and the gateway says why it is not ready
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert not upstreams["contact"].received
    assert ready.status_code == 503
    assert ready.json()["error"]["details"] == [
        {
            "field": "access_withdrawals",
            "message": "down: last fetched from auth_svc 5 s ago (user tokens are refused after 5 s)",
        }
    ]
