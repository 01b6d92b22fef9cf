"""Retention: rows aged past their lifetime go, exactly those, and nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from common.events.models import InboxEvent, OutboxEvent
from common.idempotency.models import IdempotencyRecord
from common.jobs import retention, tasks

pytestmark = pytest.mark.django_db


def _outbox(name: str, *, sent_days_ago: float | None) -> OutboxEvent:
    now = timezone.now()
    return OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        event_type="contact.customer.created",
        version=1,
        producer="contact",
        aggregate_id=name,
        occurred_at=now - timedelta(days=30),
        payload="{}",
        sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago),
    )


def _inbox(name: str, *, days_ago: float) -> InboxEvent:
    return InboxEvent.objects.create(
        event_id=uuid.uuid4(),
        consumer=name,
        event_type="sales.order.confirmed",
        version=1,
        received_at=timezone.now() - timedelta(days=days_ago),
    )


def _idempotency(key: str, *, hours_ago: float) -> None:
    IdempotencyRecord.objects.create(caller="u", key=key, request_hash="h")
    IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - timedelta(hours=hours_ago))


def test_events_prune_deletes_sent_outbox_rows_and_inbox_records_past_14_days_and_never_a_pending_row():
    # given: rows either side of the 14-day default, and a pending row older than all of them
    _outbox("sent 15 days ago", sent_days_ago=15)
    _outbox("sent 13 days ago", sent_days_ago=13)
    _outbox("pending for 30 days", sent_days_ago=None)
    _inbox("received 15 days ago", days_ago=15)
    _inbox("received 13 days ago", days_ago=13)

    # when
    deleted = tasks.events_prune()

    # then
    assert deleted == (1, 1)
    assert sorted(OutboxEvent.objects.values_list("aggregate_id", flat=True)) == [
        "pending for 30 days",
        "sent 13 days ago",
    ]
    assert list(InboxEvent.objects.values_list("consumer", flat=True)) == ["received 13 days ago"]


def test_the_retention_is_a_setting(settings):
    # given
    settings.JOBS = {**settings.JOBS, "RETENTION_DAYS": 3}
    _outbox("sent 4 days ago", sent_days_ago=4)
    _outbox("sent 2 days ago", sent_days_ago=2)

    # when
    deleted = tasks.events_prune()

    # then
    assert deleted == (1, 0)
    assert list(OutboxEvent.objects.values_list("aggregate_id", flat=True)) == ["sent 2 days ago"]


def test_idempotency_prune_deletes_the_records_past_24_hours():
    # given
    _idempotency("25 hours old", hours_ago=25)
    _idempotency("23 hours old", hours_ago=23)

    # when
    deleted = tasks.idempotency_prune()

    # then
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["23 hours old"]


def test_sessions_prune_deletes_the_expired_sessions():
    # given: one session that expired a second ago, one live
    for name, age in (("expired", -1), ("live", 3600)):
        store = SessionStore()
        store["name"] = name
        store.set_expiry(age)
        store.create()

    # when
    deleted = tasks.sessions_prune()

    # then
    assert deleted == 1
    assert [s.get_decoded()["name"] for s in Session.objects.all()] == ["live"]


def test_a_session_extended_after_its_batch_was_read_is_not_deleted(monkeypatch):
    # given: two expired sessions; one of them is used (extended by a day) right after the job read its batch
    expired, extended = SessionStore(), SessionStore()
    for store in (expired, extended):
        store.create()
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    read_batch = retention.pks_batch

    def batch_read_then_session_extended(queryset, *, batch):
        pks = read_batch(queryset, batch=batch)
        Session.objects.filter(pk=extended.session_key).update(expire_date=timezone.now() + timedelta(days=1))
        return pks

    monkeypatch.setattr(retention, "pks_batch", batch_read_then_session_extended)

    # when
    deleted = retention.sessions_prune()

    # then: only the one still expired went, and only it was counted
    assert deleted == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [extended.session_key]


def test_rows_go_in_batches_and_are_all_counted(monkeypatch):
    # given: more rows than a batch
    monkeypatch.setattr(retention, "BATCH", 2)
    for index in range(5):
        _idempotency(f"old {index}", hours_ago=48)
    _idempotency("new", hours_ago=1)

    # when
    deleted = retention.idempotency_records_prune(older_than=timedelta(hours=24))

    # then
    assert deleted == 5
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_commands_by_hand_say_what_the_jobs_delete():
    # given
    _outbox("sent 8 days ago", sent_days_ago=8)
    _idempotency("2 days old", hours_ago=48)

    # when
    out = []
    for command, *args in (("prune_events", "--older-than-days", "7"), ("prune_idempotency",)):
        stream = StringIO()
        call_command(command, *args, stdout=stream)
        out.append(stream.getvalue().strip())

    # then
    assert out == ["deleted 1 outbox rows, 0 inbox records", "deleted 1 idempotency records older than 24 h"]
    assert OutboxEvent.objects.count() == IdempotencyRecord.objects.count() == 0


def test_the_dry_run_by_hand_counts_exactly_what_the_job_deletes_and_deletes_nothing():
    # given: rows either side of 7 days, and a pending row older than all of them
    _outbox("sent 8 days ago", sent_days_ago=8)
    _outbox("sent 6 days ago", sent_days_ago=6)
    _outbox("pending for 30 days", sent_days_ago=None)
    _inbox("received 8 days ago", days_ago=8)

    # when
    stream = StringIO()
    call_command("prune_events", "--older-than-days", "7", "--dry-run", stdout=stream)

    # then: what the job would delete, and nothing gone
    assert stream.getvalue().strip() == "would delete 1 outbox rows, 1 inbox records"
    assert (OutboxEvent.objects.count(), InboxEvent.objects.count()) == (3, 1)
    assert retention.events_prune(older_than=timedelta(days=7)) == (1, 1)


@pytest.mark.parametrize(
    ("command", "flag"), [("prune_events", "--older-than-days"), ("prune_idempotency", "--older-than-hours")]
)
def test_the_commands_by_hand_refuse_a_retention_under_the_jobs_minimum(command, flag):
    # given
    _inbox("received a minute ago", days_ago=1 / 1440)
    _idempotency("a minute ago", hours_ago=1 / 60)

    # when / then
    with pytest.raises(CommandError, match=f"{flag} must be at least 1"):
        call_command(command, flag, "0")
    assert (InboxEvent.objects.count(), IdempotencyRecord.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("setting", "value", "task"),
    [("RETENTION_DAYS", 0, tasks.events_prune), ("IDEMPOTENCY_HOURS", 0, tasks.idempotency_prune)],
)
def test_a_retention_of_zero_deletes_nothing_and_fails_loudly(settings, setting, value, task):
    # given: a typo'd ERP_RETENTION_DAYS=0 / ERP_IDEMPOTENCY_HOURS=0, and records from a minute ago
    # (an inbox record is what refuses a redelivered event; an idempotency record a retried POST)
    settings.JOBS = {**settings.JOBS, setting: value}
    _inbox("received a minute ago", days_ago=1 / 1440)
    _idempotency("a minute ago", hours_ago=1 / 60)

    # when / then: the job refuses instead of deleting what is still needed
    with pytest.raises(ValueError, match=setting):
        task()
    assert InboxEvent.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize(("setting", "value"), [("RETENTION_DAYS", 0), ("IDEMPOTENCY_HOURS", -1)])
def test_the_system_checks_refuse_a_retention_under_its_minimum(settings, setting, value):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    # given
    settings.JOBS = {**settings.JOBS, setting: value}

    # when / then: `manage.py check` (run by migrate and by `manage.py celery worker`) fails
    with pytest.raises(SystemCheckError, match=f"jobs.E001.*{setting}"):
        call_command("check")
