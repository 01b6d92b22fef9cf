"""Failures around the ack: database errors, malformed control headers, copies that cannot be stored."""

from __future__ import annotations

import itertools
import time

import pytest
from django.db import DatabaseError, OperationalError, connection
from kombu import Connection, Producer

from common.events import registry
from common.events.consumer import ATTEMPT, DB_RETRIES, NOT_BEFORE, REASON
from common.events.models import InboxEvent
from erp_testkit.broker import drain, publishing_connection, queue_depth
from erp_testkit.faults import wait_until
from tests.events.conftest import RETRY_DELAYS, publish_confirmed
from tests.events.testapp.handlers import record_effect
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


def _publish_to_queue(amqp_url: str, queue: str, body: bytes, headers: dict, message_id: str | None = None) -> None:
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            body,
            exchange="",
            routing_key=queue,
            content_type="application/json",
            content_encoding="utf-8",
            headers=headers,
            message_id=message_id,
        )


def _wait_consuming(amqp_url: str, queue: str) -> None:
    def consumers() -> int:
        with Connection(amqp_url) as conn:
            return conn.default_channel.queue_declare(queue, passive=True).consumer_count

    wait_until(consumers, message=f"a consumer on {queue}")


def test_persistent_database_error_is_dead_lettered_after_max_db_retries_at_the_longest_delay(
    postgres, background, settings, topology, amqp_url
):
    # given: a database error that never goes away (a missed migration), at most 3 database retries
    # (no in-place retries: test_operations covers those)
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "MAX_DB_RETRIES": 3, "DB_RETRY_PAUSES": []}
    calls: list[tuple[float, int]] = []

    def missing_table(event):
        calls.append((time.monotonic(), event.attempt))
        raise OperationalError("no such table: inventory_stock")

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: missing_table})
    background.relay()
    # when
    row = publish_confirmed(seq=1)
    # then: the first try and 3 retries, each after the longest delay, without using up attempts
    wait_until(lambda: worker.dead_lettered == 1, timeout=20, message="the dead letter")
    assert [attempt for _, attempt in calls] == [1, 1, 1, 1]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(calls)]
    assert min(gaps) >= max(RETRY_DELAYS) - 0.05, gaps
    assert worker.retried == 3
    dlq = topology.dlq_name("inventory")
    wait_until(lambda: queue_depth(amqp_url, dlq) == 1)
    (letter,) = drain(amqp_url, dlq)
    assert letter.properties["message_id"] == str(row.event_id)
    assert letter.headers[REASON] == (
        "database error persisted through 3 retries: OperationalError('no such table: inventory_stock')"
    )
    assert letter.headers[ATTEMPT] == 1
    assert DB_RETRIES not in letter.headers  # a replay starts afresh
    assert InboxEvent.objects.count() == 0


def test_malformed_control_headers_go_to_the_dlq_and_the_consumer_goes_on(postgres, background, topology, amqp_url):
    # given: messages with malformed control headers (and a body nested too deep to parse)
    queue, dlq = topology.queue_name("inventory"), topology.dlq_name("inventory")
    bad_headers = {
        "attempt-text": {ATTEMPT: "abc"},
        "attempt-zero": {ATTEMPT: 0},
        "attempt-bool": {ATTEMPT: True},
        "not-before-text": {NOT_BEFORE: "soon"},
        "not-before-far": {NOT_BEFORE: time.time() + 10**9},
        "db-retries-negative": {DB_RETRIES: -1},
    }
    for name, headers in bad_headers.items():
        row = publish_confirmed(seq=1)
        _publish_to_queue(amqp_url, queue, row.payload.encode(), headers, message_id=name)
    _publish_to_queue(amqp_url, queue, b"[" * 100_000, {}, message_id="nested")
    # a well-formed numeric string is accepted; then an ordinary event
    as_text = publish_confirmed(seq=2)
    _publish_to_queue(amqp_url, queue, as_text.payload.encode(), {ATTEMPT: "2"})
    good = publish_confirmed(seq=3)
    _publish_to_queue(amqp_url, queue, good.payload.encode(), {})
    # when
    worker = background.consumer()
    # then
    wait_until(lambda: worker.applied == 2, timeout=15, message="the good events")
    assert worker.dead_lettered == 7
    assert dict(AppliedEffect.objects.values_list("event_id", "attempt")) == {as_text.event_id: 2, good.event_id: 1}
    wait_until(lambda: queue_depth(amqp_url, dlq) == 7)
    reasons = {m.properties["message_id"]: m.headers[REASON] for m in drain(amqp_url, dlq)}
    assert reasons == {
        "attempt-text": "malformed x-erp-attempt header: 'abc'",
        "attempt-zero": "malformed x-erp-attempt header: 0",
        "attempt-bool": "malformed x-erp-attempt header: True",
        "not-before-text": "malformed x-erp-not-before header: 'soon'",
        "not-before-far": reasons["not-before-far"],
        "db-retries-negative": "malformed x-erp-db-retries header: -1",
        "nested": reasons["nested"],
    }
    assert reasons["not-before-far"].startswith("x-erp-not-before header lies too far ahead")
    assert reasons["nested"].startswith("unparseable message: RecursionError")
    assert queue_depth(amqp_url, queue) == 0


def test_unroutable_retry_copy_is_not_acked_and_the_event_is_retried_once_the_queue_is_back(
    postgres, background, topology, amqp_url
):
    # given: a running consumer whose first retry queue has disappeared
    worker = background.consumer()
    _wait_consuming(amqp_url, topology.queue_name("inventory"))
    with Connection(amqp_url) as conn:
        conn.default_channel.queue_delete(topology.retry_name("inventory", RETRY_DELAYS[0]))
    # when: the handler fails once, so its retry copy has nowhere to go
    row = publish_confirmed(seq=1, behaviour="fail-once")
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            row.payload.encode(), exchange=topology.exchange, routing_key=row.event_type, message_id=str(row.event_id)
        )
    # then: the original was not acked; after the reconnect (which declares the queue again) it is retried
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20, message="the retried event")
    assert AppliedEffect.objects.get().attempt == 2
    assert worker.retried == 1
    assert InboxEvent.objects.count() == 1


def test_consumer_backs_off_and_loses_nothing_while_copies_cannot_be_stored(
    postgres, background, topology, amqp_url, monkeypatch
):
    # given: a publisher that cannot reach the broker, and a handler that fails while it is so
    calls = []
    broken = [True]

    def handler(event):
        calls.append(time.monotonic())
        if broken[0]:
            raise RuntimeError("fails while the broker is unreachable for copies")
        record_effect(event)

    def unreachable():
        raise ConnectionRefusedError("publisher cannot connect")

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: handler})
    monkeypatch.setattr(worker, "_publisher_connection", unreachable)
    _wait_consuming(amqp_url, topology.queue_name("inventory"))
    row = publish_confirmed(seq=1)
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            row.payload.encode(), exchange=topology.exchange, routing_key=row.event_type, message_id=str(row.event_id)
        )
    # when: copies keep failing for a while
    wait_until(lambda: calls, message="the first delivery")
    time.sleep(4.5)
    # then: the consumer pauses longer and longer (1 s, 2 s, ...), not once a second
    assert len(calls) <= 3, [round(t - calls[0], 2) for t in calls]
    assert worker.retried == worker.dead_lettered == 0
    # when: the broker takes copies again
    broken[0] = False
    monkeypatch.undo()
    # then: the message was never lost nor acked, and is now applied once
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=20, message="the event after the outage")
    assert AppliedEffect.objects.get().event_id == row.event_id
    # the effect commits a moment before the worker counts it
    wait_until(lambda: worker.applied == 1, message="the worker to count the applied event")


def test_handler_that_swallows_a_database_error_is_retried_not_acked_without_effect(postgres, background):
    # given: a handler that catches a database error inside the consumer's transaction on its first attempt
    def swallowing(event):
        if event.attempt == 1:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1/0")
            except DatabaseError:
                return  # PostgreSQL would roll the whole transaction back at COMMIT, silently
        record_effect(event)

    worker = background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: swallowing})
    background.relay()
    # when
    row = publish_confirmed(seq=1)
    # then
    wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=15, message="the retried event")
    assert AppliedEffect.objects.get().attempt == 2
    assert list(InboxEvent.objects.values_list("event_id", flat=True)) == [row.event_id]
    assert (worker.applied, worker.retried) == (1, 1)
