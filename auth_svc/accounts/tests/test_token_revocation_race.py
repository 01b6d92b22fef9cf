"""A refresh racing a password reset or a deactivation: serialised on the user row.

Real threads, each with its own PostgreSQL connection and transaction. One side is
paused inside its transaction (after its writes, before its commit) while the other
starts and, with the fix, blocks on the user row; then the paused side is released.
SQLite has no row locks (SELECT ... FOR UPDATE is a no-op there): the tests require
PostgreSQL (erp_testkit.plugin's ``postgresql`` fixture fails on anything else).
"""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from common.exceptions import Unauthorized
from erp_testkit.concurrency import Worker, paused_after, wait_until_blocked_or_done

from .. import services
from ..models import User
from ..tokens import token_pair_for_user
from .factories import UserFactory

# PostgreSQL row locks are what these tests are about: on anything else they fail, never skip.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]

NEW_PASSWORD = "Another-Passw0rd!"


def pause_after(monkeypatch, name):
    """Make ``services.<name>`` stop after it ran, until released; return (reached, release)."""
    return paused_after(monkeypatch, services, name)


def is_revoked(refresh_token: str) -> bool:
    jti = RefreshToken(refresh_token, verify=False)["jti"]
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def rotate_then_revoke(monkeypatch, revoke):
    """Pause a refresh after it rotated, run ``revoke`` meanwhile, then let both finish."""
    user = UserFactory(email="ivy@example.com")
    old = token_pair_for_user(user=user).refresh_token
    reached, release = pause_after(monkeypatch, "token_pair_for_user")
    refresh = Worker(lambda: services.auth_token_refresh(refresh_token=old))
    refresh.start()
    assert reached.wait(10)
    revoker = Worker(lambda: revoke(user))
    revoker.start()
    wait_until_blocked_or_done(revoker)
    release.set()
    refresh.join(10)
    revoker.join(10)
    return user, old, refresh, revoker


def test_refresh_rotated_before_a_password_reset_commits_is_revoked(monkeypatch):
    # given: a refresh that rotated but has not committed yet when the reset runs
    def reset(user):
        raw = services._password_reset_token_create(user=user)
        return services.password_reset_confirm(reset_token=raw, new_password=NEW_PASSWORD)

    # when
    user, old, refresh, revoker = rotate_then_revoke(monkeypatch, reset)

    # then: the reset waited for the rotation and revoked the token it minted too
    assert refresh.error is None and revoker.error is None
    assert is_revoked(old)
    assert is_revoked(refresh.result.refresh_token)
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    with pytest.raises(Unauthorized):
        services.auth_token_refresh(refresh_token=refresh.result.refresh_token)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_refresh_rotated_before_a_deactivation_commits_is_revoked(monkeypatch):
    # given: a second admin, so the acting one is not the last
    UserFactory(email="root@example.com", role="admin")

    # when
    user, old, refresh, revoker = rotate_then_revoke(monkeypatch, lambda user: services.user_deactivate(user=user))

    # then
    assert refresh.error is None and revoker.error is None
    assert is_revoked(old)
    assert is_revoked(refresh.result.refresh_token)
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    assert not User.objects.get(pk=user.pk).is_active


def test_refresh_arriving_during_a_password_reset_is_rejected(monkeypatch):
    # given: a reset that revoked the tokens but has not committed yet
    user = UserFactory(email="ivy@example.com")
    old = token_pair_for_user(user=user).refresh_token
    raw = services._password_reset_token_create(user=user)
    reached, release = pause_after(monkeypatch, "user_refresh_tokens_revoke")
    resetter = Worker(lambda: services.password_reset_confirm(reset_token=raw, new_password=NEW_PASSWORD))
    resetter.start()
    assert reached.wait(10)

    # when
    refresh = Worker(lambda: services.auth_token_refresh(refresh_token=old))
    refresh.start()
    wait_until_blocked_or_done(refresh)
    release.set()
    resetter.join(10)
    refresh.join(10)

    # then: the refresh waited for the reset, found its token revoked and minted nothing
    assert resetter.error is None
    assert isinstance(refresh.error, Unauthorized)
    assert OutstandingToken.objects.filter(user=user).count() == 1
    assert is_revoked(old)


def test_refresh_arriving_during_a_deactivation_is_rejected(monkeypatch):
    # given
    UserFactory(email="root@example.com", role="admin")
    user = UserFactory(email="ivy@example.com")
    old = token_pair_for_user(user=user).refresh_token
    reached, release = pause_after(monkeypatch, "user_refresh_tokens_revoke")
    deactivator = Worker(lambda: services.user_deactivate(user=user))
    deactivator.start()
    assert reached.wait(10)

    # when
    refresh = Worker(lambda: services.auth_token_refresh(refresh_token=old))
    refresh.start()
    wait_until_blocked_or_done(refresh)
    release.set()
    deactivator.join(10)
    refresh.join(10)

    # then
    assert deactivator.error is None
    assert isinstance(refresh.error, Unauthorized)
    assert OutstandingToken.objects.filter(user=user).count() == 1
