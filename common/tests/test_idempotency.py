"""IdempotencyMiddleware on PostgreSQL: replay, conflicts, caller scope, one transaction, real concurrency."""

import logging
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from rest_framework.test import APIClient

from common.idempotency import middleware
from common.idempotency.models import IdempotencyRecord
from erp_testkit import auth_client, issue_token
from erp_testkit.faults import wait_until
from tests.project.models import Gadget
from tests.project.views import side_effects

USER_A = "a0000000-0000-4000-8000-00000000000a"
USER_B = "b0000000-0000-4000-8000-00000000000b"


def _client(user_id: str = USER_A):
    return auth_client("inventory_manager", user_id=user_id)


def _post(client, key: str, body: dict, path: str = "/counter"):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_retry_replays_the_first_response_without_running_the_view():
    # given
    client = _client()
    first = _post(client, "key-1", {"n": 1})

    # when
    retry = _post(client, "key-1", {"n": 1})

    # then
    assert first.status_code == retry.status_code == 201
    assert first.json() == {"status": 201, "message": "Created", "data": {"count": 1, "echo": {"n": 1}}}
    assert retry.content == first.content
    assert retry["Content-Type"] == "application/json"
    assert retry["Idempotent-Replayed"] == "true"
    assert side_effects.count == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_409_and_runs_nothing():
    # given
    client = _client()
    _post(client, "key-1", {"n": 1})

    # when
    response = _post(client, "key-1", {"n": 2})

    # then
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": {
            "type": "conflict",
            "message": "This Idempotency-Key was used with a different request.",
            "details": [
                {"field": "Idempotency-Key", "message": "This Idempotency-Key was used with a different request."}
            ],
        },
    }
    assert side_effects.count == 1


@pytest.mark.django_db
def test_same_key_on_another_path_is_409():
    client = _client()
    _post(client, "key-1", {"n": 1})

    response = _post(client, "key-1", {"n": 1}, path="/counter?x=1")

    assert response.status_code == 409
    assert side_effects.count == 1


@pytest.mark.django_db
def test_key_is_scoped_per_caller():
    # when: two users happen to pick the same key
    first = _post(_client(USER_A), "shared", {"n": 1})
    second = _post(_client(USER_B), "shared", {"n": 1})

    # then: both run
    assert (first.json()["data"]["count"], second.json()["data"]["count"]) == (1, 2)
    assert sorted(IdempotencyRecord.objects.values_list("caller", flat=True)) == [f"user:{USER_A}", f"user:{USER_B}"]


@pytest.mark.django_db
def test_the_home_s_scoped_token_gets_no_replay_of_its_user_s_post():
    # given: a POST its user made with a token of their own
    assert _post(_client(), "key-1", {"n": 1}).status_code == 201

    # when: the same POST, same key, with the home's token of the same user (common.authentication)
    home = auth_client("inventory_manager", user_id=USER_A, scope="home")
    retry = _post(home, "key-1", {"n": 1})

    # then: refused as anywhere but the home's summaries, the stored answer not handed out
    assert retry.status_code == 403 and retry.json()["error"]["type"] == "forbidden"
    assert side_effects.count == 1


@pytest.mark.django_db
def test_server_errors_are_not_stored_so_a_retry_runs_again():
    # given
    client = _client()
    failed = client.post("/counter?fail=1", {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert failed.status_code == 503
    assert IdempotencyRecord.objects.count() == 0

    # when
    retry = client.post("/counter?fail=1", {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # then
    assert retry.status_code == 503
    assert "Idempotent-Replayed" not in retry
    assert side_effects.count == 2


@pytest.mark.django_db
def test_client_errors_are_stored_and_replayed():
    # given: a validation failure is the view's real answer
    client = _client()
    first = _post(client, "key-1", {"name": ""}, path="/widgets")

    # when
    retry = _post(client, "key-1", {"name": ""}, path="/widgets")

    # then
    assert first.status_code == retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_refused_requests_are_not_stored():
    # given: an expired token is a 401 before any work
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(role='inventory_manager', lifetime=-5)}")

    # when
    response = _post(client, "key-1", {"n": 1})

    # then
    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0
    assert side_effects.count == 0


@pytest.mark.django_db
def test_over_long_key_is_400_and_runs_nothing():
    response = _post(_client(), "k" * 256, {"n": 1})

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": {
            "type": "validation",
            "message": "Invalid Idempotency-Key.",
            "details": [{"field": "Idempotency-Key", "message": "At most 255 characters."}],
        },
    }
    assert side_effects.count == 0


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted():
    assert _post(_client(), "k" * 255, {"n": 1}).status_code == 201


@pytest.mark.django_db
def test_without_a_key_every_post_runs():
    client = _client()
    client.post("/counter", {"n": 1}, format="json")
    client.post("/counter", {"n": 1}, format="json")

    assert side_effects.count == 2
    assert IdempotencyRecord.objects.count() == 0


def _send_at_once(count: int, path: str, bodies: list[dict]) -> list:
    """POST ``bodies[i]`` to ``path`` with one key from ``count`` threads released together."""
    token = issue_token(role="inventory_manager", user_id=USER_A)
    barrier = threading.Barrier(count)
    responses: list = [None] * count

    def send(index: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            responses[index] = client.post(path, bodies[index], format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return responses


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_wait_for_the_first_and_get_its_answer(postgresql):
    # given: five clients sending one key at once while the first is still inside its transaction
    # when
    responses = _send_at_once(5, "/gadget-work?sleep=0.5", [{"name": "one"}] * 5)

    # then: one did the work; the four others waited on the key and got the same answer
    assert [response.status_code for response in responses] == [201] * 5
    assert len({response.content for response in responses}) == 1
    assert sorted(response.get("Idempotent-Replayed", "") for response in responses) == ["", *["true"] * 4]
    assert side_effects.count == 1
    assert Gadget.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.caller, record.key, record.status_code) == (f"user:{USER_A}", "race", 201)


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_with_another_body_waits_then_gets_409(postgresql):
    # when
    responses = _send_at_once(2, "/gadget-work?sleep=0.5", [{"name": "one"}, {"name": "two"}])

    # then
    assert sorted(response.status_code for response in responses) == [201, 409]
    assert Gadget.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_waits_at_most_claim_wait_then_gets_409_and_the_first_still_commits(postgresql, monkeypatch):
    # given: a duplicate may wait 0.3 s; the first request takes 6 s
    monkeypatch.setattr(middleware, "CLAIM_WAIT", 0.3)
    first: list = []
    thread = threading.Thread(
        target=lambda: first.append(_post_in_thread("/gadget-work?sleep=6", {"name": "one"})), daemon=True
    )
    thread.start()
    wait_until(lambda: side_effects.count == 1, message="the first request's work, inside its transaction")
    # when
    started = time.monotonic()
    duplicate = _post(_client(), "race", {"name": "one"}, path="/gadget-work?sleep=6")
    waited = time.monotonic() - started
    thread.join(20)
    # then: the duplicate was told to retry, quickly; the first did the work once and kept its answer
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["details"] == [
        {"field": "Idempotency-Key", "message": "A request with this Idempotency-Key is being handled; retry."}
    ]
    assert waited < 4.0  # the first holds its claim for 6 s: a duplicate that waited for it would take longer
    assert first[0].status_code == 201
    assert Gadget.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


@pytest.mark.django_db(transaction=True)
def test_the_claim_wait_does_not_shorten_the_views_own_lock_waits(postgresql):
    # when
    response = _post(_client(), "key-lock", {"name": "x"}, path="/gadget-work?show_lock_timeout=1")
    # then: the view ran with the session's lock_timeout, not the claim's
    assert response.status_code == 201
    assert response["X-Lock-Timeout"] == "0"


def _post_in_thread(path: str, body: dict):
    try:
        return _post(_client(), "race", body, path=path)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_work_and_the_stored_answer_commit_together(postgresql):
    # given: a request whose work is done
    client = _client()

    # when
    response = _post(client, "key-1", {"name": "kept"}, path="/gadget-work")

    # then: both are there, committed (this test runs outside a wrapping transaction)
    assert response.status_code == 201
    assert list(Gadget.objects.values_list("name", flat=True)) == ["kept"]
    assert bytes(IdempotencyRecord.objects.get().response_body) == response.content


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_the_work_and_the_stored_answer_leaves_neither(postgresql, monkeypatch):
    # given: the process fails after the view's work, while storing the answer
    def crash(record, response):
        raise RuntimeError("killed before the answer was stored")

    monkeypatch.setattr("common.idempotency.middleware._store", crash)
    client = _client()
    client.raise_request_exception = False

    # when
    crashed = _post(client, "key-1", {"name": "lost"}, path="/gadget-work")

    # then: no row and no claim, so a retry does the work, once
    assert crashed.status_code == 500
    assert Gadget.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    monkeypatch.undo()
    retried = _post(client, "key-1", {"name": "lost"}, path="/gadget-work")
    again = _post(client, "key-1", {"name": "lost"}, path="/gadget-work")
    assert (retried.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert Gadget.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_server_error_after_the_work_rolls_the_work_back(postgresql):
    # given: a view that wrote its row and then failed with a 503
    client = _client()

    # when
    failed = _post(client, "key-1", {"n": 1}, path="/counter?fail=1")
    work = _post(client, "key-2", {"name": "x"}, path="/gadget-work")

    # then: the failed request stored nothing; the other committed normally
    assert (failed.status_code, work.status_code) == (503, 201)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["key-2"]


@pytest.mark.django_db
def test_exempt_views_run_every_time_and_store_nothing():
    # given a view whose answers carry credentials, marked idempotency_exempt
    client = _client()
    first = _post(client, "key-x", {"n": 1}, path="/exempt-counter")

    # when the same key is sent again
    retry = _post(client, "key-x", {"n": 1}, path="/exempt-counter")

    # then both ran and nothing was kept
    assert first.json()["data"]["count"] + 1 == retry.json()["data"]["count"]
    assert "Idempotent-Replayed" not in retry
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_anonymous_callers_with_one_key_do_not_collide():
    # given one anonymous client used a key
    first = _post(APIClient(), "shared-key", {"n": 1}, path="/public-counter")

    # when another anonymous client sends the same key with another body
    other = _post(APIClient(), "shared-key", {"n": 2}, path="/public-counter")

    # then both ran: no 409 for someone else's request
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["data"]["count"] == first.json()["data"]["count"] + 1


@pytest.mark.django_db
def test_anonymous_retry_with_the_same_body_is_replayed():
    first = _post(APIClient(), "retry-key", {"n": 1}, path="/public-counter")

    retry = _post(APIClient(), "retry-key", {"n": 1}, path="/public-counter")

    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_prune_idempotency_deletes_only_old_records():
    # given one record from two days ago and one from now
    _post(_client(), "old", {"n": 1})
    _post(_client(), "new", {"n": 2})
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=2))

    # when
    call_command("prune_idempotency", "--older-than-hours", "24", stdout=StringIO())

    # then
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_the_database_away_while_claiming_is_the_503_envelope_and_runs_nothing(monkeypatch, caplog):
    # given: the database goes away as the key is claimed (restarting, too many clients)
    def away(**fields):
        raise OperationalError("connection failed: sorry, too many clients already")

    monkeypatch.setattr(IdempotencyRecord.objects, "create", away)
    client = _client()
    client.raise_request_exception = False

    # when
    with caplog.at_level(logging.WARNING, logger="common.exceptions"):
        response = _post(client, "key-1", {"n": 1})

    # then: what a DRF view answers with its database away, not Django's 500; one line in the log
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_unavailable"  # the envelope: test_envelope.py
    [record] = [r for r in caplog.records if r.name == "common.exceptions"]
    assert record.getMessage().startswith("Database unavailable in POST /counter (request ")
    assert record.exc_info is None
    assert side_effects.count == 0
