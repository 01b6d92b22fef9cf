"""Throttles key on the client's address; a forwarded one counts only when the gateway's token vouches.

Issue 7 item 3: 60 wrong passwords straight to auth_svc, each with a new made-up
``X-Forwarded-For``, were all 401 and the right one then 200. A forwarded address is now
believed only with the gateway's own service token in ``X-Gateway-Token``.
"""

from __future__ import annotations

import pytest

from common.forwarding import PROXY_TOKEN_HEADER
from erp_testkit import issue_token

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

PEER = "127.0.0.1"


def _gateway_token(**claims) -> str:
    return issue_token(role=None, token_type="service", user_id="gateway", **claims)


@pytest.fixture
def lockout(settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "LOGIN_MAX_FAILURES": 5, "LOGIN_MAX_FAILURES_PER_IP": 50}


def _login(client, password: str, forwarded_for: str, proof: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for, "REMOTE_ADDR": PEER}
    if proof:
        headers[f"HTTP_{PROXY_TOKEN_HEADER.upper().replace('-', '_')}"] = proof
    return client.post("/login", {"email": "ivy@example.com", "password": password}, format="json", **headers)


NOT_VOUCHING = {
    "no-proof": lambda: None,
    "another-services-token": lambda: issue_token(role=None, token_type="service", user_id="contact"),
    "a-user-token": lambda: issue_token(role="admin", user_id="gateway"),
    "expired-gateway-token": lambda: _gateway_token(lifetime=-10),
    "gateway-token-with-a-string-exp": lambda: _gateway_token(exp="9999999999"),
    "garbage": lambda: "not.a.token",
}


@pytest.mark.parametrize("proof", NOT_VOUCHING)
def test_spoofed_forwarded_for_does_not_escape_the_lockout(api_client, user, lockout, proof):
    # given: five wrong passwords, each "from" another made-up address
    for n in range(5):
        assert _login(api_client, "wrong", f"203.0.113.{n}", NOT_VOUCHING[proof]()).status_code == 401

    # when: the right password, from yet another made-up address
    response = _login(api_client, PASSWORD, "203.0.113.99", NOT_VOUCHING[proof]())

    # then: every attempt counted against the peer, which is locked out
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limited"


def test_through_the_gateway_the_forwarded_client_is_locked_out_and_no_one_else(api_client, user, lockout):
    # given: the gateway vouches; one client fails five times
    proof = _gateway_token()
    for _ in range(5):
        assert _login(api_client, "wrong", "198.51.100.7", proof).status_code == 401

    # when
    locked = _login(api_client, PASSWORD, "198.51.100.7", proof)
    other_client = _login(api_client, PASSWORD, "198.51.100.8", proof)

    # then: keyed on the address the gateway appended (the last entry), not on the gateway's own
    assert locked.status_code == 429
    assert other_client.status_code == 200


def test_only_the_entry_the_gateway_appended_counts(api_client, user, lockout):
    # given: the client's own prefix varies, the gateway's entry does not
    proof = _gateway_token()
    for n in range(5):
        assert _login(api_client, "wrong", f"10.9.9.{n}, 198.51.100.7", proof).status_code == 401

    # then
    assert _login(api_client, PASSWORD, "10.9.9.200, 198.51.100.7", proof).status_code == 429


def test_unparsable_forwarded_entry_falls_back_to_the_peer(api_client, user, lockout):
    proof = _gateway_token()
    for n in range(5):
        assert _login(api_client, "wrong", f"not-an-ip-{n}", proof).status_code == 401

    assert _login(api_client, PASSWORD, "not-an-ip-x", proof).status_code == 429


def test_forgot_password_per_ip_limit_holds_against_spoofed_forwarded_for(api_client, settings):
    # given
    settings.ACCOUNTS = {**settings.ACCOUNTS, "RESET_MAX_REQUESTS": 2, "RESET_WINDOW": 600}
    for n in range(2):
        api_client.post(
            "/forgot-password", {"email": f"x{n}@example.com"}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )

    # when
    response = api_client.post(
        "/forgot-password", {"email": "x9@example.com"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    # then
    assert response.status_code == 429


def test_trusted_proxy_is_the_gateway_by_default(settings):
    assert settings.ACCOUNTS["TRUSTED_PROXY"] == "gateway"
