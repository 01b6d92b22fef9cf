"""Withdrawn access (common.withdrawals, contract §3): older tokens of a user refused, the map fresh and bounded."""

import threading
import time
import uuid

import pytest
from rest_framework.test import APIClient

from common import withdrawals
from common.exceptions import BadGateway
from common.health import run_checks
from common.withdrawals import AccessWithdrawals, Window, Withdrawal
from erp_testkit import issue_token

USER = "5b0c1f8e-0000-4000-8000-0000000000aa"


def _get_widgets(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/widgets")


def _polling(fetch, **options):
    """A map polled every 50 ms, as in production otherwise."""
    return AccessWithdrawals(
        fetch, **{"poll_seconds": 0.05, "max_age_seconds": 5.0, "backoff_max_seconds": 1.0, **options}
    )


def _listed(rows):
    """A source that answers the whole list every time, as an auth_svc that sends no cursor."""
    return lambda *, since: Window(list(rows), None)


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

    def unreachable(*, since):
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
    def unreachable(*, since):
        raise ConnectionError("auth_svc is away")

    monkeypatch.setattr(withdrawals, "FIRST_SYNC_WAIT", 0.2)
    withdrawals.install(_polling(unreachable))

    # when
    response = _get_widgets(issue_token(role="finance_manager", user_id=USER))
    checks = run_checks()

    # then
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"
    assert checks["access_withdrawals"] == "down: not fetched from auth_svc since the process started"


def test_on_start_the_first_fetch_completes_before_a_token_is_judged():
    # given: a restarted process; auth_svc answers its first fetch only after a while
    released = threading.Event()
    fetches = []

    def slow_source(*, since):
        fetches.append(1)
        released.wait(5)
        return Window([Withdrawal(USER, 1, time.time())], None)

    withdrawals.install(_polling(slow_source))
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
    polled = _polling(_listed(rows))
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
    parent = _polling(_listed(rows))
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


def _readiness() -> str:
    return run_checks()["access_withdrawals"]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _failing_until(answered: threading.Event, rows=()):
    """A source that fails (auth_svc away) until ``answered`` is set, then answers ``rows``."""

    def fetch(*, since):
        if not answered.is_set():
            raise ConnectionError("auth_svc is away")
        return Window(list(rows), None)

    return fetch


def test_a_map_older_than_the_bound_refuses_to_judge_and_is_not_ready():
    # given: a map fetched at 100 s, a withdrawal known, then auth_svc stops answering
    clock, answered = FakeClock(100.0), threading.Event()
    answered.set()
    table = _polling(_failing_until(answered, [Withdrawal(USER, 1, time.time())]), clock=clock)
    table.sync()
    withdrawals.install(table)
    answered.clear()
    old, fresh = (issue_token(role="finance_manager", user_id=USER, access_version=v) for v in (0, 1))

    # when: polls fail until just before the bound, then until it
    clock.now = 104.9
    assert table.sync() is False
    before_the_bound = (_get_widgets(old).status_code, _get_widgets(fresh).status_code, _readiness())
    clock.now = 105.0
    assert table.sync() is False
    at_the_bound = (_get_widgets(old), _get_widgets(fresh).status_code, _readiness())

    # then: judged as usual before it; from it on, no user token is judged and readiness names the age
    assert before_the_bound == (401, 200, "ok")
    assert at_the_bound[0].status_code == 503
    assert at_the_bound[0].json()["error"]["type"] == "upstream_unavailable"
    assert at_the_bound[1] == 503
    assert at_the_bound[2] == ("down: last fetched from auth_svc 5 s ago (user tokens are refused after 5 s)")


def test_a_stale_map_judges_again_from_the_first_poll_that_answers():
    # given: a map gone stale while auth_svc was away
    clock, answered = FakeClock(100.0), threading.Event()
    table = _polling(_failing_until(answered), clock=clock)
    answered.set()
    table.sync()
    answered.clear()
    clock.now = 130.0
    table.sync()
    withdrawals.install(table)
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 503

    # when: auth_svc answers again
    answered.set()
    assert table.sync() is True

    # then
    assert _get_widgets(token).status_code == 200
    assert run_checks()["access_withdrawals"] == "ok"


def test_a_new_worker_started_while_auth_is_away_serves_once_auth_answers(monkeypatch):
    # given: a process started while auth_svc is away: its user requests are 503s and it is not ready
    answered = threading.Event()
    monkeypatch.setattr(withdrawals, "FIRST_SYNC_WAIT", 0.2)
    withdrawals.install(_polling(_failing_until(answered), backoff_max_seconds=0.2))
    token = issue_token(role="finance_manager", user_id=USER)
    assert _get_widgets(token).status_code == 503
    assert run_checks()["access_withdrawals"] == "down: not fetched from auth_svc since the process started"

    # when: auth_svc answers; a request waits (up to 3 s, as in production) for the next poll
    answered.set()
    monkeypatch.setattr(withdrawals, "FIRST_SYNC_WAIT", 3.0)
    response = _get_widgets(token)

    # then: served, and ready, without a restart
    assert response.status_code == 200
    assert run_checks()["access_withdrawals"] == "ok"


def test_the_age_of_the_last_success_is_a_gauge():
    # given: a map fetched at 100 s
    from prometheus_client import REGISTRY

    clock = FakeClock(100.0)
    table = _polling(_listed([]), clock=clock)
    table.sync()
    assert REGISTRY.get_sample_value("erp_access_withdrawals_age_seconds") == 0.0

    # when: 7 s later, the polling thread publishes the age while it waits (a wait of nothing here)
    clock.now = 107.0
    table._rest(0)

    # then
    assert REGISTRY.get_sample_value("erp_access_withdrawals_age_seconds") == 7.0


def test_failing_polls_warn_at_most_once_a_minute_and_the_recovery_once(caplog):
    # given: auth_svc away
    clock, answered = FakeClock(0.0), threading.Event()
    table = _polling(_failing_until(answered), clock=clock)
    caplog.set_level("WARNING", logger="common.withdrawals")

    # when: polls fail at these times, then one succeeds
    for now in (0.0, 10.0, 59.9, 60.0, 61.0, 130.0):
        clock.now = now
        table.sync()
    answered.set()
    table.sync()

    # then: a warning at 0 s, 60 s and 130 s, and one for the recovery
    assert [record.getMessage() for record in caplog.records] == [
        "access withdrawals not refreshed (ConnectionError): 1 failed polls in a row, last fetched never",
        "access withdrawals not refreshed (ConnectionError): 4 failed polls in a row, last fetched never",
        "access withdrawals not refreshed (ConnectionError): 6 failed polls in a row, last fetched never",
        "access withdrawals refreshed again after 6 failed polls",
    ]


@pytest.mark.parametrize(
    ("jitter", "waits"), [("highest", [2, 4, 8, 10, 10, 10, 2]), ("lowest", [1, 2, 4, 5, 5, 5, 2])]
)
def test_failed_polls_back_off_exponentially_capped_and_success_restores_the_interval(jitter, waits):
    # given: a 2 s poll, a 10 s cap, and a source that fails six times, then answers
    answered = threading.Event()
    pick = (lambda low, high: high) if jitter == "highest" else (lambda low, high: low)
    table = _polling(
        _failing_until(answered), poll_seconds=2.0, backoff_max_seconds=10.0, jitter=pick, clock=FakeClock()
    )
    asked: list[float] = []

    def rest(seconds):  # the thread's wait, recorded instead of slept
        asked.append(seconds)
        if len(asked) == 6:
            answered.set()
        if len(asked) == 7:
            table._stopped.set()

    table._rest = rest

    # when: the polling loop runs (here, in the test's thread)
    table._poll_forever()

    # then: doubling from the interval up to the cap (jittered within its upper half), the interval again
    assert asked == waits
    assert table.failures == 0


@pytest.mark.parametrize(("answer_seconds", "wait"), [(0.0, 2.0), (1.5, 0.5), (2.0, 0.0), (3.0, 0.0)])
def test_a_slow_answer_does_not_delay_the_next_poll(answer_seconds, wait):
    # given: a 2 s poll, a 5 s bound, and an auth_svc that takes ``answer_seconds`` to answer
    clock = FakeClock(100.0)

    def slow(*, since):
        clock.now += answer_seconds
        return Window([], 1000.0)

    table = _polling(slow, poll_seconds=2.0, clock=clock)
    table.sync()

    # when: the thread asks how long to rest after that answer
    rest = table.next_poll_in()

    # then: the next poll starts 2 s after this one started (at once if it took longer), so
    # answers of 1.5 s each leave the map at most 3.5 s old, never the 5 s of waiting 2 s after each
    assert rest == wait
    clock.now += rest + answer_seconds
    assert table.age_seconds() == max(2.0, answer_seconds) + answer_seconds
    assert table.stale() is (answer_seconds >= 2.5)


def test_polls_after_the_first_ask_for_what_changed_since_the_last_answer():
    # given: a source that records each cursor it is asked for
    asked: list[float | None] = []
    answers = [
        Window([Withdrawal("a", 1, time.time())], 1000.0),
        Window([Withdrawal("b", 1, time.time()), Withdrawal("a", 1, time.time())], 1060.0),
        Window([Withdrawal("c", 2, time.time())], None),  # no cursor (an older auth_svc): the next poll is full
        Window([Withdrawal("d", 1, time.time())], None),
    ]

    def source(*, since):
        asked.append(since)
        return answers[len(asked) - 1]

    table = _polling(source)

    # when
    for _ in range(3):
        table.sync()
    merged = {user: table.refuses({"user_id": user}) for user in "abcd"}
    table.sync()
    replaced = {user: table.refuses({"user_id": user}) for user in "abcd"}

    # then: the first poll is full, the next ones start at the last cursor, and a partial poll's
    # answer adds to the map; a full poll's answer replaces it
    assert asked == [None, 1000.0, 1060.0, None]
    assert merged == {"a": True, "b": True, "c": True, "d": False}
    assert replaced == {"a": False, "b": False, "c": False, "d": True}


def test_after_a_failed_poll_the_next_asks_for_the_whole_window():
    # given: an auth_svc that refuses the cursor it gave (a 400, as a release that reads it otherwise would)
    asked: list[float | None] = []

    def source(*, since):
        asked.append(since)
        if since is not None:
            raise BadGateway("auth_svc answered 400")  # as ServiceClient.get_json raises it
        return Window([Withdrawal("a", 1, time.time())], 1000.0)

    table = _polling(source)

    # when
    results = [table.sync() for _ in range(3)]

    # then: each poll with the cursor fails once, and the one after it asks for the window and succeeds
    assert asked == [None, 1000.0, None]
    assert results == [True, False, True]
    assert table.refuses({"user_id": "a"}) is True


def test_the_bound_must_exceed_the_poll_interval():
    with pytest.raises(ValueError, match="must exceed the poll interval"):
        _polling(_listed([]), poll_seconds=5.0, max_age_seconds=5.0)
