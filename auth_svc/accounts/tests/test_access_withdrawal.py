"""Withdrawn access (contract §3): a deactivation, a role change or a new password refuses the older tokens.

auth_svc bumps the user's ``access_version`` and serves the window at
``GET /internal/access-withdrawals``; every verifier polls it (common.withdrawals). Here auth_svc's
own map is fed from its table, as in production, and a verifier elsewhere is played by a fresh
map fetching over HTTP from a live auth_svc with a service token.
"""

import io
import logging
import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from common import http, withdrawals
from common.authentication import authenticate_header_value
from common.withdrawals import AccessWithdrawals
from erp_testkit import auth_client

from .. import selectors, services
from ..api.serializers import LAST_EPOCH_SECOND
from ..models import User
from ..selectors import access_withdrawals_since
from ..services import _password_reset_token_create
from ..tokens import token_pair_for_user
from .factories import PASSWORD, UserFactory
from .helpers import FORBIDDEN, verified_claims

PATH = "/internal/access-withdrawals"
NEW_PASSWORD = "An0ther-Sturdy-Pass"


@pytest.fixture
def from_the_table():
    """auth_svc's own map, fed from its table as in production (synced by hand here, not by a thread)."""
    table = AccessWithdrawals(
        access_withdrawals_since, poll_seconds=3600, max_age_seconds=math.inf, backoff_max_seconds=3600
    )
    withdrawals.install(table)
    return table


def _me(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/me").status_code


def _withdraw(change: str, user: User, admin_client: APIClient, monkeypatch) -> None:
    if change == "deactivation":
        assert admin_client.post(f"/users/{user.id}/deactivate").status_code == 200
    elif change == "role change":
        assert admin_client.patch(f"/users/{user.id}", {"role": "finance_manager"}, format="json").status_code == 200
    elif change == "password reset":
        raw = _password_reset_token_create(user=user)
        body = {"reset_token": raw, "new_password": NEW_PASSWORD}
        assert APIClient().post("/reset-password", body, format="json").status_code == 200
    elif change == "admin password change":
        staff = Client()
        staff.force_login(User.objects.create_superuser("boss@example.com", PASSWORD))
        body = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        assert staff.post(f"/admin/accounts/user/{user.pk}/password/", body).status_code == 302
    elif change == "own password change":  # the signed-in user's "Change password" in the admin
        User.objects.filter(pk=user.pk).update(is_staff=True)  # as every role is (common.sso.staff_flags)
        own = Client()
        own.force_login(user)
        body = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        response = own.post("/admin/password_change/", body)
        assert (response.status_code, response["Location"]) == (302, "/admin/password_change/done/")
    elif change == "changepassword command":
        monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
        call_command("changepassword", user.email, stdout=io.StringIO())
    else:  # the admin's change form saves through this service
        services.user_admin_change(user=User.objects.get(pk=user.pk), changes={"email": "Renamed@Example.com"})


CHANGES = [
    "deactivation",
    "role change",
    "password reset",
    "admin password change",
    "own password change",
    "changepassword command",
    "email change",
]


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES)
def test_a_change_withdraws_the_tokens_minted_before_it(from_the_table, admin_client, user, change, monkeypatch):
    # given: a token of the user that works
    old = token_pair_for_user(user=user).access_token
    from_the_table.sync()
    assert _me(old) == 200

    # when
    _withdraw(change, user, admin_client, monkeypatch)
    from_the_table.sync()

    # then: the old token is the one 401 everywhere the map is asked, and the count went up once
    user.refresh_from_db()
    assert user.access_version == 1
    assert _me(old) == 401
    assert authenticate_header_value(f"Bearer {old}") is None
    assert [(w.user_id, w.access_version) for w in access_withdrawals_since().withdrawals] == [(str(user.id), 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["role change", "password reset"])
def test_a_token_minted_after_the_change_works(from_the_table, admin_client, user, change, monkeypatch):
    # given
    _withdraw(change, user, admin_client, monkeypatch)
    from_the_table.sync()

    # when: the user logs in again (at once: the same second as the change)
    password = NEW_PASSWORD if change == "password reset" else PASSWORD
    login = APIClient().post("/login", {"email": user.email, "password": password}, format="json")
    token = login.json()["data"]["access_token"]

    # then
    assert verified_claims(token)["access_version"] == 1
    assert _me(token) == 200


@pytest.mark.django_db
def test_the_same_role_again_withdraws_nothing(from_the_table, admin_client, user):
    # when
    response = admin_client.patch(f"/users/{user.id}", {"role": user.role}, format="json")

    # then
    user.refresh_from_db()
    assert response.status_code == 200
    assert (user.access_version, user.access_withdrawn_at) == (0, None)
    assert access_withdrawals_since().withdrawals == []


def test_a_role_set_back_from_a_stale_copy_still_withdraws_the_promotion(from_the_table, user):
    # given: one admin's request read the user as they were; another admin promotes them, and they sign in
    stale = User.objects.get(pk=user.pk)
    services.user_change_role(user=User.objects.get(pk=user.pk), role="admin")
    promoted = token_pair_for_user(user=User.objects.get(pk=user.pk)).access_token

    # when: the first request sets the old role back from its stale copy
    services.user_change_role(user=stale, role=stale.role)

    # then: the demotion was seen under the row lock, and the admin token is withdrawn
    from_the_table.sync()
    user.refresh_from_db()
    assert (user.role, user.access_version) == (stale.role, 2)
    assert authenticate_header_value(f"Bearer {promoted}") is None


NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch):
    """The selector's clock stopped at ``NOW`` (the rows' stamps are set by hand)."""
    monkeypatch.setattr(selectors, "timezone", SimpleNamespace(now=lambda: NOW))
    return NOW


def _withdrawn_at(user: User, at: datetime, version: int = 1) -> None:
    User.objects.filter(pk=user.pk).update(access_withdrawn_at=at, access_version=version)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["contact", "inventory", "sales", "purchase", "gateway"])
def test_every_verifier_reads_the_window(frozen_now, user, caller):
    # given: one withdrawal inside the window (15 min + 1 min), one just outside it
    _withdrawn_at(user, NOW - timedelta(minutes=16))
    _withdrawn_at(UserFactory(email="old@example.com"), NOW - timedelta(minutes=16, microseconds=1))

    # when
    response = auth_client(token_type="service", user_id=caller).get(PATH)

    # then: the whole window, and a cursor a minute before the read
    assert response.status_code == 200
    assert response.json()["data"] == {
        "withdrawals": [
            {
                "user_id": str(user.id),
                "access_version": 1,
                "withdrawn_at_epoch": (NOW - timedelta(minutes=16)).timestamp(),
            }
        ],
        "next_since": (NOW - timedelta(minutes=1)).timestamp(),
    }


@pytest.mark.django_db
def test_a_poll_since_a_cursor_answers_only_what_was_stamped_from_then_on(frozen_now, user):
    # given: a withdrawal stamped before the cursor, one at it, one after
    cursor = NOW - timedelta(seconds=70)
    _withdrawn_at(UserFactory(email="before@example.com"), cursor - timedelta(microseconds=1))
    _withdrawn_at(user, cursor, version=2)
    after = UserFactory(email="after@example.com")
    _withdrawn_at(after, NOW)

    # when
    response = auth_client(token_type="service", user_id="sales").get(PATH, {"since": repr(cursor.timestamp())})

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {
        "withdrawals": [
            {"user_id": str(user.id), "access_version": 2, "withdrawn_at_epoch": cursor.timestamp()},
            {"user_id": str(after.id), "access_version": 1, "withdrawn_at_epoch": NOW.timestamp()},
        ],
        "next_since": (NOW - timedelta(minutes=1)).timestamp(),
    }


@pytest.mark.django_db
def test_a_cursor_older_than_the_window_answers_the_window(frozen_now, user):
    # given
    _withdrawn_at(user, NOW - timedelta(minutes=17))

    # when
    response = auth_client(token_type="service", user_id="sales").get(PATH, {"since": "0"})

    # then
    assert response.status_code == 200
    assert response.json()["data"]["withdrawals"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("ahead", [timedelta(seconds=1), timedelta(days=365), None])
def test_a_cursor_in_the_future_skips_nothing_the_answers_cursor_keeps(frozen_now, user, ahead):
    # given: a withdrawal stamped 59 s ago, 1 s after the cursor this answer gives; and a
    # `since` ahead of the clock (an auth_svc host whose clock runs ahead gave it), up to year 9999
    _withdrawn_at(user, NOW - timedelta(seconds=59))
    since = (NOW + ahead).timestamp() if ahead else LAST_EPOCH_SECOND

    # when
    response = auth_client(token_type="service", user_id="sales").get(PATH, {"since": repr(since)})

    # then: read from this answer's own cursor on, so the next poll skips nothing
    assert response.status_code == 200
    assert response.json()["data"] == {
        "withdrawals": [
            {
                "user_id": str(user.id),
                "access_version": 1,
                "withdrawn_at_epoch": (NOW - timedelta(seconds=59)).timestamp(),
            }
        ],
        "next_since": (NOW - timedelta(minutes=1)).timestamp(),
    }


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_committed_long_after_it_was_stamped_is_in_the_poll_after_its_commit(monkeypatch, user):
    # given: a transaction that stamps a withdrawal and stays open, and a poll while it is open
    # that reads the clock ten minutes later (as if the commit had waited that long on a lock or
    # a synchronous standby: a cursor a minute before the read would lie nine minutes past the stamp)
    writer = connections.create_connection("default")
    writer.set_autocommit(False)
    with writer.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET access_version = 1, access_withdrawn_at = now() WHERE id = %s", [user.pk]
        )
    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr(selectors, "timezone", SimpleNamespace(now=lambda: later))
    during = access_withdrawals_since()

    # when: the transaction commits, and the next poll asks from that poll's cursor
    writer.commit()
    writer.close()
    after = access_withdrawals_since(since=during.next_since)

    # then: the first poll could not see it; the next one has it
    assert during.withdrawals == []
    assert [(row.user_id, row.access_version) for row in after.withdrawals] == [(str(user.id), 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("since", ["soon", "nan", "inf", "-inf", "-1", "1e300"])
def test_an_unreadable_cursor_is_a_400(since):
    # when
    response = auth_client(token_type="service", user_id="sales").get(PATH, {"since": since})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation"
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["since"]


@pytest.mark.django_db(transaction=True)
def test_a_verifier_polling_auth_asks_for_the_window_then_for_what_changed(a_verifier_elsewhere):
    # given: a withdrawal, and a verifier that has not polled yet
    user = UserFactory(email="gone@example.com")
    services.user_deactivate(user=user)
    table = AccessWithdrawals(
        withdrawals.fetch_from_auth, poll_seconds=3600, max_age_seconds=math.inf, backoff_max_seconds=3600
    )
    polls: list[tuple[dict, dict]] = []
    real_get = http.ServiceClient.get_json

    def recorded(client, path, **kwargs):
        data = real_get(client, path, **kwargs)
        polls.append((kwargs["params"], data))
        return data

    # when: it polls twice (over HTTP, with its service token)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(http.ServiceClient, "get_json", recorded)
        table.sync()
        table.sync()

    # then: the window first, then from the cursor of the first answer on; the withdrawal known
    assert polls[0][0] == {}
    assert polls[1][0] == {"since": repr(polls[0][1]["next_since"])}
    assert [row["user_id"] for row in polls[1][1]["withdrawals"]] == [str(user.id)]  # within the overlap
    assert table.refuses({"user_id": str(user.id), "access_version": 0}) is True


@pytest.mark.django_db
@pytest.mark.parametrize("caller", [{"token_type": "service", "user_id": "auth"}, {"role": "admin"}])
def test_no_other_caller_reads_the_window(caller):
    # when
    response = auth_client(**caller).get(PATH)

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.fixture
def a_verifier_elsewhere(settings, live_server):
    """Settings of a process that verifies tokens away from auth_svc: the gateway, asking a live auth_svc."""
    secret = "gateway-secret-for-tests"
    settings.SERVICE_NAME = "gateway"
    settings.ERP = {**settings.ERP, "AUTH_SERVICE_URL": live_server.url, "SERVICE_SECRET": secret}
    settings.ACCOUNTS = {**settings.ACCOUNTS, "SERVICE_SECRETS": {"gateway": secret}}
    http._token_cache.invalidate()
    yield
    withdrawals.install(None)  # its poller stops before the settings go back
    http._token_cache.invalidate()
    # The kept-alive connection holds a live-server thread, and with it a database session.
    http.close_pool(live_server.url)


@pytest.mark.django_db(transaction=True)
def test_a_restarted_verifier_catches_up_before_it_judges_a_token(a_verifier_elsewhere):
    # given: a user deactivated, and another whose role changed, while the verifier was down
    gone, moved = UserFactory(email="gone@example.com"), UserFactory(email="moved@example.com")
    gone_token = token_pair_for_user(user=gone).access_token
    moved_token = token_pair_for_user(user=moved).access_token
    services.user_deactivate(user=gone)
    services.user_change_role(user=moved, role="finance_manager")
    moved.refresh_from_db()
    fresh_token = token_pair_for_user(user=moved).access_token

    # when: the verifier starts (a map never fetched, polling auth_svc over HTTP) and is asked at once
    withdrawals.install(
        AccessWithdrawals(withdrawals.fetch_from_auth, poll_seconds=0.2, max_age_seconds=5.0, backoff_max_seconds=1.0)
    )
    judged = [authenticate_header_value(f"Bearer {token}") for token in (gone_token, moved_token, fresh_token)]

    # then: both older tokens are refused, the one minted after the change is served
    assert judged[0] is None
    assert judged[1] is None
    assert (judged[2].id, judged[2].role) == (str(moved.id), "finance_manager")


@pytest.mark.django_db
def test_the_poll_is_logged_at_debug_and_a_refusal_at_info(caplog):
    # given
    caplog.set_level(logging.INFO, logger="erp.access")

    # when: a verifier polls, and a caller that may not does
    assert auth_client(token_type="service", user_id="sales").get(PATH).status_code == 200
    assert auth_client(token_type="service", user_id="auth").get(PATH).status_code == 403

    # then: only the refusal reaches the INFO log
    assert [(record.path, record.status) for record in caplog.records if record.name == "erp.access"] == [(PATH, 403)]
