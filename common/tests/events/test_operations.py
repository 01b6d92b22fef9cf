"""outbox_status, prune_events, the readiness check and database failures in handlers."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from common.events import registry
from common.events.health import OutboxStuck, check_outbox
from common.events.models import InboxEvent, OutboxEvent
from tests.events.conftest import publish_confirmed, wait_until
from tests.events.testapp.handlers import record_effect
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


def _status() -> dict:
    out = io.StringIO()
    call_command("outbox_status", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_outbox_status_reports_backlog(events_settings):
    # given
    assert _status() == {"pending": 0, "oldest_pending_age_seconds": None, "sent": 0}
    first = publish_confirmed(seq=1)
    publish_confirmed(seq=2)
    OutboxEvent.objects.filter(id=first.id).update(occurred_at=timezone.now() - dt.timedelta(seconds=90))
    # when
    status = _status()
    # then
    assert status["pending"] == 2 and status["sent"] == 0
    assert 89 <= status["oldest_pending_age_seconds"] < 100


def test_check_outbox_fails_when_the_relay_is_stuck(events_settings, settings):
    # given
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "OUTBOX_MAX_AGE": 60}
    check_outbox()
    row = publish_confirmed(seq=1)
    check_outbox()
    # when
    OutboxEvent.objects.filter(id=row.id).update(occurred_at=timezone.now() - dt.timedelta(seconds=61))
    # then
    with pytest.raises(OutboxStuck, match="oldest pending event is 61s old"):
        check_outbox()
    OutboxEvent.objects.filter(id=row.id).update(sent_at=timezone.now())
    check_outbox()


def test_prune_events_deletes_only_old_sent_rows_and_inbox_records(events_settings):
    # given
    old = timezone.now() - dt.timedelta(days=8)
    sent_old, sent_new, pending_old = (publish_confirmed(seq=seq) for seq in range(3))
    OutboxEvent.objects.filter(id=sent_old.id).update(sent_at=old, occurred_at=old)
    OutboxEvent.objects.filter(id=sent_new.id).update(sent_at=timezone.now())
    OutboxEvent.objects.filter(id=pending_old.id).update(occurred_at=old)
    for event_id, received in ((sent_old.event_id, old), (sent_new.event_id, timezone.now())):
        InboxEvent.objects.create(
            event_id=event_id, consumer="inventory", event_type="sales.order.confirmed", version=1, received_at=received
        )
    # when
    out = io.StringIO()
    call_command("prune_events", "--older-than-days", "7", stdout=out)
    # then
    assert out.getvalue().strip() == "deleted 1 outbox rows, 1 inbox records"
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {sent_new.id, pending_old.id}
    assert list(InboxEvent.objects.values_list("event_id", flat=True)) == [sent_new.event_id]


def test_database_error_is_retried_without_using_up_attempts(postgres, background):
    # given: the database "fails" twice, more than a handler failure would be allowed (2 retries)
    failures = []

    def flaky(event):
        if len(failures) < 3:
            failures.append(event.attempt)
            raise OperationalError("server closed the connection unexpectedly")
        record_effect(event)

    background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: flaky})
    background.relay()
    # when
    publish_confirmed(seq=1)
    # then
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20)
    assert failures == [1, 1, 1]
    assert AppliedEffect.objects.get().attempt == 1
