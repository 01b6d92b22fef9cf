"""outbox_status, prune_events, the readiness check and database failures in handlers."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import socket

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from kombu import Producer
from rest_framework.test import APIClient

from common import health
from common.events import registry
from common.events.consumer import REASON
from common.events.models import ConsumerProgress, InboxEvent, OutboxEvent
from common.events.topology import Topology
from common.jobs import watchdogs
from erp_testkit.broker import drain, publishing_connection
from erp_testkit.faults import wait_until
from tests.events.conftest import publish_confirmed
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


def test_ready_reports_the_backlog_and_an_unreachable_broker_without_going_unready(events_settings, settings):
    # given: two pending events, the oldest 90 s old, and a broker nobody answers for
    first = publish_confirmed(seq=1)
    publish_confirmed(seq=2)
    OutboxEvent.objects.filter(id=first.id).update(occurred_at=timezone.now() - dt.timedelta(seconds=90))
    settings.BROKER_URL = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    health._broker_cache = (0.0, "")
    wait_until(lambda: health.broker_status() != "down: timeout", message="a broker probe")  # may outlast a request
    # when
    response = APIClient().get("/health/ready")
    # then: ready (the database answers); the broker and the backlog are reported
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["checks"] == {"database": "ok", "access_withdrawals": "ok"}
    assert body["dependencies"]["broker"] == "down: OperationalError"
    assert body["dependencies"]["outbox"]["pending"] == 2
    assert 89 <= body["dependencies"]["outbox"]["oldest_pending_age_seconds"] < 100
    # and /metrics carries the same figures
    metrics = APIClient().get("/metrics").content.decode()
    assert "erp_broker_up 0.0" in metrics
    assert "erp_outbox_pending 2.0" in metrics
    health._broker_cache = (0.0, "")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def test_a_database_blip_is_retried_in_place_not_through_the_longest_delay(postgres, background, settings):
    # given: the database drops the handler's connection once (a failover, a terminated backend)
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "DB_RETRY_PAUSES": [0.05, 0.1]}
    failures = []

    def blip(event):
        if not failures:
            failures.append(event.attempt)
            raise OperationalError("terminating connection due to administrator command")
        record_effect(event)

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: blip})
    background.relay()
    # when
    publish_confirmed(seq=1)
    # then: applied by the same delivery's second try; no copy went through a delay queue
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20)
    assert failures == [1]
    assert worker.db_retried_in_place == 1
    assert worker.retried == 0
    assert AppliedEffect.objects.get().attempt == 1
    assert InboxEvent.objects.count() == 1


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


def test_a_database_error_retrying_cannot_fix_uses_the_handler_s_attempts_not_six_hours(
    postgres, background, settings, topology, amqp_url
):
    # given: a handler whose query passes one of PostgreSQL's limits (54011, an OperationalError like a lost link)
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "DB_RETRY_PAUSES": [0.05]}
    tries = []

    def too_wide(event):
        tries.append(event.attempt)
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["1"] * 1700))

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: too_wide})
    background.relay()
    # when
    publish_confirmed(seq=1)
    # then: dead-lettered after the handler's three attempts (RETRY_DELAYS 0.2 s, 0.4 s), none retried in place
    wait_until(lambda: worker.dead_lettered == 1, timeout=20, message="the dead letter")
    assert tries == [1, 2, 3]
    assert worker.db_retried_in_place == 0
    (letter,) = drain(amqp_url, topology.dlq_name("inventory"))
    assert letter.headers[REASON].startswith("handler failed 3 times: OperationalError('target lists can have at most")
    assert AppliedEffect.objects.count() == 0


def test_a_read_only_database_during_a_failover_is_retried_as_a_database_error(postgres, background, settings):
    # given: the first write meets a read-only transaction (25006, an InternalError: the old primary of a failover)
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "DB_RETRY_PAUSES": [0.05]}
    tries = []

    def after_failover(event):
        tries.append(event.attempt)
        if len(tries) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        record_effect(event)

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: after_failover})
    background.relay()
    # when
    publish_confirmed(seq=1)
    # then: applied by the same delivery's second try, none of the handler's attempts used
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20)
    assert tries == [1, 1]
    assert worker.db_retried_in_place == 1
    assert worker.retried == 0


def test_metrics_show_the_queue_the_dead_letters_and_the_oldest_waiting_event(events_settings, settings, amqp_url):
    # given: inventory's consumer, stopped 120 s ago after taking an event 5 s old; 3 events wait, 2 dead letters
    settings.ERP_EVENTS = {
        **settings.ERP_EVENTS,
        "CONSUMER": "inventory",
        "HANDLERS": "tests.events.testapp.handlers.HANDLERS",
    }
    topology = Topology()
    now = timezone.now()
    ConsumerProgress.objects.create(
        consumer="inventory", taken_at=now - dt.timedelta(seconds=120), occurred_at=now - dt.timedelta(seconds=125)
    )
    with publishing_connection(amqp_url) as conn:
        producer = Producer(conn.default_channel)
        for queue, count in ((topology.queue_name("inventory"), 3), (topology.dlq_name("inventory"), 2)):
            for _ in range(count):
                producer.publish(b"{}", exchange="", routing_key=queue)
    health._broker_cache = (0.0, "")
    wait_until(lambda: health.broker_status() == "ok", message="a broker probe")
    # when
    metrics = APIClient().get("/metrics").content.decode()
    # then
    queue, dlq = topology.queue_name("inventory"), topology.dlq_name("inventory")
    assert f'erp_events_queue_messages{{queue="{queue}"}} 3.0' in metrics
    assert f'erp_events_queue_consumers{{queue="{queue}"}} 0.0' in metrics
    assert f'erp_events_dead_letters{{queue="{dlq}"}} 2.0' in metrics
    age = re.search(rf'^erp_events_oldest_waiting_age_seconds{{queue="{re.escape(queue)}"}} (\S+)$', metrics, re.M)
    assert 120 <= float(age.group(1)) < 180
    health._broker_cache = (0.0, "")


@pytest.mark.parametrize("earlier_run", [False, True], ids=["first", "after-an-earlier-run"])
def test_the_consumer_records_when_it_took_an_event_and_when_that_occurred(postgres, background, earlier_run):
    # given: no record yet, or one an earlier run of the consumer left an hour ago
    if earlier_run:
        an_hour_ago = timezone.now() - dt.timedelta(hours=1)
        ConsumerProgress.objects.create(consumer="inventory", taken_at=an_hour_ago, occurred_at=an_hour_ago)
    background.consumer()
    background.relay()
    # when
    row = publish_confirmed(seq=1)
    # then
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20)
    progress = ConsumerProgress.objects.get()
    assert progress.consumer == "inventory"
    assert progress.occurred_at == row.occurred_at
    assert row.occurred_at <= progress.taken_at <= timezone.now()


def test_the_dead_letter_watchdog_logs_what_waits_in_the_dlq_and_is_quiet_without(
    events_settings, settings, amqp_url, caplog
):
    # given: inventory's consumer, its dead-letter queue empty
    settings.ERP_EVENTS = {
        **settings.ERP_EVENTS,
        "CONSUMER": "inventory",
        "HANDLERS": "tests.events.testapp.handlers.HANDLERS",
    }
    dlq = Topology().dlq_name("inventory")
    with caplog.at_level(logging.WARNING, logger="common.jobs.watchdogs"):
        # when beat runs the job / then nothing to say
        assert watchdogs.dead_letters_watch() == 0
        assert caplog.records == []
        # given: two events dead-lettered
        with publishing_connection(amqp_url) as conn:
            producer = Producer(conn.default_channel)
            for _ in range(2):
                producer.publish(b"{}", exchange="", routing_key=dlq)
        # when / then: counted on the broker, logged at WARNING with the queue's name
        assert watchdogs.dead_letters_watch() == 2
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert f"2 dead-lettered event(s) in {dlq}" in caplog.text
