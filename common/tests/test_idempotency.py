"""IdempotencyMiddleware on PostgreSQL: replay, conflicts, caller scope, concurrency."""

import hashlib
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from common.idempotency.middleware import STALE_AFTER
from common.idempotency.models import IdempotencyRecord
from common.testing import auth_client, issue_token
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


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_the_view_once():
    # given: five clients retrying at once while the first is still in the view
    token = issue_token(role="inventory_manager", user_id=USER_A)
    barrier = threading.Barrier(5)
    statuses: list[int] = []
    lock = threading.Lock()

    def send():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            response = client.post("/counter?sleep=0.5", {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="race")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one did the work, the others were told to retry
    assert sorted(statuses) == [201, 409, 409, 409, 409]
    assert side_effects.count == 1
    record = IdempotencyRecord.objects.get()
    assert (record.caller, record.key, record.status_code) == (f"user:{USER_A}", "race", 201)


def _claim(key: str, *, age: timedelta) -> None:
    # The fingerprint of POST /counter with {"n": 1}, as the test client encodes it.
    digest = hashlib.sha256(b'POST /counter\n{"n":1}').hexdigest()
    record = IdempotencyRecord.objects.create(caller=f"user:{USER_A}", key=key, request_hash=digest)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)


@pytest.mark.django_db
def test_a_request_in_flight_makes_a_retry_409():
    # given: another worker holds the claim right now
    _claim("key-1", age=timedelta(seconds=1))

    # when
    response = _post(_client(), "key-1", {"n": 1})

    # then
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "A request with this Idempotency-Key is in progress; retry."
    assert side_effects.count == 0


@pytest.mark.django_db
def test_a_claim_left_by_a_crash_expires():
    # given: a claim older than STALE_AFTER, never completed
    _claim("key-1", age=STALE_AFTER + timedelta(seconds=1))

    # when
    response = _post(_client(), "key-1", {"n": 1})

    # then
    assert response.status_code == 201
    assert side_effects.count == 1
    assert IdempotencyRecord.objects.get().status_code == 201


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
