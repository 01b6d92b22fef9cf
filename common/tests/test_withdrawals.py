"""Withdrawn access (common.withdrawals, contract §3): older tokens of a user refused, the map fresh and bounded."""

import threading
import time
import uuid

import pytest
from rest_framework.test import APIClient

from common import withdrawals
from common.health import run_checks
from common.withdrawals import AccessWithdrawals, Withdrawal
from erp_testkit import issue_token

USER = "5b0c1f8e-0000-4000-8000-0000000000aa"


def _get_widgets(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/widgets")


def _withdraw(access_withdrawals, *, user_id=USER, version=1, at=None):
    access_withdrawals.rows.append(Withdrawal(user_id, version, time.time() if at is None else at))
    access_withdrawals.sync()


def test_a_token_minted_before_the_withdrawal_is_the_one_401(access_withdrawals):
    # given: a token of version 0 (no claim), and the user's access withdrawn once
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 200
    _withdraw(access_withdrawals, version=1)

    # when
    response = _get_widgets(token)

    # then
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "error": {"type": "unauthorized", "message": "Invalid or expired token.", "details": None},
    }


@pytest.mark.parametrize("version", [1, 2])
def test_a_token_minted_after_the_withdrawal_is_accepted(access_withdrawals, version):
    # given
    _withdraw(access_withdrawals, version=1)

    # when
    response = _get_widgets(issue_token(role="finance_manager", user_id=USER, access_version=version))

    # then
    assert response.status_code == 200


def test_another_users_token_and_a_service_token_are_not_concerned(access_withdrawals):
    # given: "sales" withdrawn as if it were a user (a service token is never judged by the map)
    _withdraw(access_withdrawals, version=5)
    _withdraw(access_withdrawals, user_id="sales", version=5)

    # when
    other = _get_widgets(issue_token(role="finance_manager", user_id=str(uuid.uuid4())))
    service = withdrawals.token_withdrawn({"type": "service", "user_id": "sales"})

    # then
    assert other.status_code == 200
    assert service is False


@pytest.mark.parametrize("version", ["1", 1.0, True, -1, 2**31, None])
def test_an_access_version_of_the_wrong_type_is_the_one_401(version):
    # given
    token = issue_token(role="finance_manager", user_id=USER, access_version=version)
    if version is None:  # dropped by issue_token: the claim absent is 0, accepted
        expected = 200
    else:
        expected = 401

    # when
    response = _get_widgets(token)

    # then
    assert response.status_code == expected


def test_withdrawals_older_than_the_token_lifetime_are_dropped(access_withdrawals, settings):
    # given: one withdrawal older than any access token can live, one recent
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    old_user, new_user = str(uuid.uuid4()), str(uuid.uuid4())
    too_old = time.time() - lifetime - withdrawals.CLOCK_MARGIN_SECONDS - 1
    access_withdrawals.rows.append(Withdrawal(old_user, 3, too_old))
    access_withdrawals.rows.append(Withdrawal(new_user, 3, time.time()))

    # when
    access_withdrawals.sync()

    # then
    assert len(access_withdrawals) == 1
    assert access_withdrawals.refuses({"user_id": old_user}) is False
    assert access_withdrawals.refuses({"user_id": new_user}) is True


def test_auth_unreachable_keeps_the_last_map(access_withdrawals):
    # given: a withdrawal known, then the source fails
    _withdraw(access_withdrawals, version=2)

    def unreachable():
        raise ConnectionError("auth_svc is away")

    access_withdrawals.fetch = unreachable

    # when
    access_withdrawals.sync()

    # then: still refused (fail-open only for what is withdrawn during the outage)
    assert access_withdrawals.failing is True
    assert access_withdrawals.refuses({"user_id": USER, "access_version": 1}) is True
    assert access_withdrawals.refuses({"user_id": USER, "access_version": 2}) is False


def test_a_process_that_never_fetched_refuses_to_judge_user_tokens_and_is_not_ready(monkeypatch):
    # given: a fresh process whose source (auth_svc) cannot be reached
    def unreachable():
        raise ConnectionError("auth_svc is away")

    monkeypatch.setattr(withdrawals, "FIRST_SYNC_WAIT", 0.2)
    withdrawals.install(AccessWithdrawals(unreachable, poll_seconds=0.05))

    # when
    response = _get_widgets(issue_token(role="finance_manager", user_id=USER))
    checks = run_checks()

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert checks["access_withdrawals"] == "down: RuntimeError"


def test_on_start_the_first_fetch_completes_before_a_token_is_judged():
    # given: a restarted process; auth_svc answers its first fetch only after a while
    released = threading.Event()
    fetches = []

    def slow_source():
        fetches.append(1)
        released.wait(5)
        return [Withdrawal(USER, 1, time.time())]

    withdrawals.install(AccessWithdrawals(slow_source, poll_seconds=0.05))
    threading.Timer(0.3, released.set).start()

    # when: the first request comes in before the fetch has answered
    response = _get_widgets(issue_token(role="finance_manager", user_id=USER))

    # then: it waited for the fetch, and the withdrawal made before the restart is applied
    assert fetches
    assert response.status_code == 401
    assert run_checks()["access_withdrawals"] == "ok"


def test_the_thread_keeps_the_map_fresh():
    # given: a polling process, nothing withdrawn yet
    rows: list[Withdrawal] = []
    polled = AccessWithdrawals(lambda: list(rows), poll_seconds=0.05)
    withdrawals.install(polled)
    assert polled.synced(2.0)
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 200

    # when: the source learns of a withdrawal (auth_svc commits one)
    rows.append(Withdrawal(USER, 1, time.time()))

    # then: the thread picks it up without anybody asking
    deadline = time.monotonic() + 5
    while not polled.refuses({"user_id": USER}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _get_widgets(token).status_code == 401


def test_a_forked_worker_starts_polling_on_its_own():
    # given: a map synced in the parent (gunicorn's preloaded master), whose thread a fork does not copy
    rows: list[Withdrawal] = []
    parent = AccessWithdrawals(lambda: list(rows), poll_seconds=0.05)
    parent.sync()
    parent._pid = -1  # as seen from the child: another process's

    # when: the child is asked, then auth_svc learns of a withdrawal
    assert parent.synced(1.0) is True
    rows.append(Withdrawal(USER, 1, time.time()))

    # then: the child's own thread picks it up
    deadline = time.monotonic() + 5
    while not parent.refuses({"user_id": USER}) and time.monotonic() < deadline:
        time.sleep(0.05)
    parent.stop()
    assert parent.refuses({"user_id": USER}) is True
