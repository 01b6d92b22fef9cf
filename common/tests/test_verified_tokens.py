"""Verified tokens kept by the services (common.verified_tokens): never more lenient than verifying again."""

import base64
import json
import time

import pytest
from rest_framework.test import APIClient

from common import authentication
from common.verified_tokens import EXPIRED, VerifiedTokenCache, token_key
from common.withdrawals import Withdrawal
from erp_testkit import issue_token

USER = "5b0c1f8e-0000-4000-8000-0000000000cc"


def _get_widgets(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/widgets")


def _exp(token: str) -> int:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def _verifications(monkeypatch) -> list[bytes]:
    """Count the full verifications (signature and claims) from now on."""
    calls: list[bytes] = []
    real = authentication.ContractAccessToken

    def counted(raw_token):
        calls.append(raw_token)
        return real(raw_token)

    monkeypatch.setattr(authentication, "ContractAccessToken", counted)
    return calls


def test_a_token_is_verified_once_then_served_from_the_cache(monkeypatch):
    # given
    token = issue_token(role="finance_manager", user_id=USER)
    verifications = _verifications(monkeypatch)

    # when
    answers = [_get_widgets(token).status_code for _ in range(3)]

    # then
    assert answers == [200, 200, 200]
    assert len(verifications) == 1
    assert len(authentication.verified_tokens()) == 1


def test_a_cached_token_is_refused_from_its_exp_on_and_forgotten(monkeypatch):
    # given: verified and kept while valid
    token = issue_token(role="admin", lifetime=60)
    assert _get_widgets(token).status_code == 200

    # when / then: a second before exp it is still good, at exp it is the one 401
    monkeypatch.setattr(authentication, "_now", lambda: _exp(token) - 1.0)
    assert _get_widgets(token).status_code == 200
    monkeypatch.setattr(authentication, "_now", lambda: float(_exp(token)))
    response = _get_widgets(token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == authentication.TOKEN_INVALID_MESSAGE
    assert len(authentication.verified_tokens()) == 0


def test_a_cached_token_whose_access_is_withdrawn_is_refused(access_withdrawals):
    # given: the token verified and kept
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 200
    assert len(authentication.verified_tokens()) == 1

    # when: its user's access is withdrawn
    access_withdrawals.rows.append(Withdrawal(USER, 1, time.time()))
    access_withdrawals.sync()

    # then
    assert _get_widgets(token).status_code == 401


def test_a_cached_user_token_is_a_503_while_withdrawals_cannot_be_judged(access_withdrawals, monkeypatch):
    # given: the token verified and kept
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 200

    # when: the map has gone stale (auth_svc away too long)
    monkeypatch.setattr(access_withdrawals, "stale", lambda: True)
    response = _get_widgets(token)

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token + "x",
        lambda token: token.rsplit(".", 1)[0] + ".",
    ],
    ids=["signature-changed", "appended", "signature-dropped"],
)
def test_a_tampered_token_is_never_served_from_the_cache(tamper):
    # given: the genuine token verified and kept
    token = issue_token(role="inventory_manager")
    assert _get_widgets(token).status_code == 200

    # when / then
    assert _get_widgets(tamper(token)).status_code == 401
    assert len(authentication.verified_tokens()) == 1  # only the genuine one


def test_refused_tokens_are_not_kept():
    # when
    for token in (issue_token(role="admin", lifetime=-10), issue_token(role="admin", aud="other"), "a.b.c"):
        assert _get_widgets(token).status_code == 401

    # then
    assert len(authentication.verified_tokens()) == 0


def test_a_zero_size_keeps_nothing(settings):
    # given
    settings.ERP = {**settings.ERP, "VERIFIED_TOKENS_CACHE_SIZE": 0}
    authentication.clear_verified_tokens()

    # when
    assert _get_widgets(issue_token(role="admin")).status_code == 200

    # then
    assert len(authentication.verified_tokens()) == 0


def test_the_cache_is_bounded_and_evicts_the_least_recently_used():
    # given: room for two
    cache = VerifiedTokenCache(2)
    first, second, third = (token_key(name) for name in ("first", "second", "third"))
    cache.put(first, 100.0, "a")
    cache.put(second, 100.0, "b")
    assert cache.get(first, 0.0) == "a"  # first is now the most recently used

    # when
    cache.put(third, 100.0, "c")

    # then
    assert len(cache) == 2
    assert cache.get(second, 0.0) is None
    assert cache.get(first, 0.0) == "a"
    assert cache.get(third, 100.0) is EXPIRED
    assert len(cache) == 1
