"""Two redemptions of one authorization code at once: the later one is a replay (issue 26, finding 5).

Real threads, each with its own PostgreSQL connection. The first redemption is paused after
it saved its tokens (before the code is deleted and its transaction commits); the second
then runs. django-oauth-toolkit checks the code with a plain read, so without a lock both
pass it and both mint tokens: the later one fails only when it deletes the code, and the
earlier one's tokens live on although the code was used twice (RFC 6749 §4.1.2).
"""

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, RefreshToken

from erp_testkit.concurrency import race

from ..sso.validators import PlatformOAuth2Validator
from .test_sso_provider import _code, _redeem, application, userinfo  # noqa: F401 (a fixture)

# PostgreSQL row locks are what this test is about: on anything else it fails, never skips.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]


def test_a_code_redeemed_twice_at_once_buys_nothing_that_works(monkeypatch, application, user):  # noqa: F811
    # given: a code, and a first redemption that stops after saving its tokens
    code = _code(Client(), user)

    # when: the same code is redeemed again meanwhile
    first, second = race(
        monkeypatch, PlatformOAuth2Validator, hold="_create_access_token", call=lambda: _redeem(Client(), code)
    )

    # then: one answer carried tokens, the other was refused as a replay, and none of them works
    assert (first.error, second.error) == (None, None)
    answers = sorted([first.result, second.result], key=lambda response: response.status_code)
    assert [response.status_code for response in answers] == [200, 400]
    assert answers[1].json()["error"] == "invalid_grant"
    assert userinfo(Client(), answers[0].json()["access_token"]).status_code == 401
    assert AccessToken.objects.filter(user=user).count() == 0
    assert RefreshToken.objects.filter(user=user, revoked__isnull=True).count() == 0
