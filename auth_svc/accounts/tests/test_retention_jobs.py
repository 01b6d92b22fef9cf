"""auth_svc's nightly retention: expired tokens and grants go, exactly those; what still refuses a token stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, get_application_model
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from .. import tasks
from ..models import PasswordResetToken
from ..tokens import token_pair_for_user
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def _refresh_token(user, *, expired: bool, revoked: bool) -> str:
    pair = token_pair_for_user(user=user)
    outstanding = OutstandingToken.objects.order_by("-pk").first()
    if expired:
        OutstandingToken.objects.filter(pk=outstanding.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    if revoked:
        BlacklistedToken.objects.create(token=outstanding)
    return pair.refresh_token


def test_refresh_tokens_past_their_expiry_go_revoked_or_not_and_a_revoked_live_one_stays(api_client):
    # given
    user = UserFactory()
    for expired, revoked in ((True, False), (True, True), (False, False)):
        _refresh_token(user, expired=expired, revoked=revoked)
    revoked_live = _refresh_token(user, expired=False, revoked=True)

    # when
    deleted = tasks.refresh_tokens_prune()

    # then: the two expired rows (and one blacklist row with them) went
    assert deleted == 2
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 1
    # and the revoked token that has not expired is still refused
    response = api_client.post("/refresh", {"refresh_token": revoked_live}, format="json")
    assert response.status_code == 401


def test_reset_tokens_expired_or_used_go_and_a_live_one_stays():
    # given
    user = UserFactory()
    now = timezone.now()
    for name, expires_at, used_at in (
        ("expired", now - timedelta(minutes=1), None),
        ("used", now + timedelta(minutes=30), now - timedelta(minutes=5)),
        ("live", now + timedelta(minutes=30), None),
    ):
        PasswordResetToken.objects.create(
            user=user, token_hash=name.ljust(64, "0"), expires_at=expires_at, used_at=used_at
        )

    # when
    deleted = tasks.reset_tokens_prune()

    # then
    assert deleted == 2
    assert list(PasswordResetToken.objects.values_list("token_hash", flat=True)) == ["live".ljust(64, "0")]


def test_expired_back_office_tokens_and_grants_go_and_live_ones_stay():
    # given: an OIDC client with an expired and a live access token, an expired and a live grant
    user = UserFactory()
    application = get_application_model().objects.create(
        name="admin", client_type="confidential", authorization_grant_type="authorization-code", user=None
    )
    now = timezone.now()
    for name, expires in (("expired", now - timedelta(minutes=1)), ("live", now + timedelta(hours=1))):
        AccessToken.objects.create(user=user, application=application, token=name, expires=expires, scope="openid")
        Grant.objects.create(
            user=user,
            application=application,
            code=name,
            expires=expires,
            redirect_uri="http://localhost/cb",
            scope="openid",
        )

    # when
    deleted = tasks.oauth_tokens_prune()

    # then
    assert deleted == 2
    assert [token.expires > now for token in AccessToken.objects.all()] == [True]
    assert list(Grant.objects.values_list("code", flat=True)) == ["live"]
