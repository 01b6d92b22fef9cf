"""Outbox -> relay -> RabbitMQ -> consumer -> handler, against the real broker and PostgreSQL."""

from __future__ import annotations

import io
import re
import threading
import time
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from kombu import Producer

from common.events import EventDataError, publish_event, registry
from common.events.consumer import ATTEMPT, DB_RETRIES, REASON, ROUTING_KEY, EventConsumer
from common.events.dead_letters import dead_letters_list
from common.events.models import InboxEvent, OutboxEvent
from common.events.relay import Relay
from erp_testkit.broker import drain, publishing_connection, queue_depth
from erp_testkit.faults import wait_until
from tests.events.conftest import order_data, publish_confirmed, publish_rows
from tests.events.testapp import handlers as test_handlers
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


def _effects(**filters) -> int:
    return AppliedEffect.objects.filter(**filters).count()


def test_commit_publishes_exactly_once_and_rollback_nothing(postgres, background, amqp_url, topology):
    # given
    background.relay()
    worker = background.consumer()
    # when: one transaction rolls back, the next commits
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_confirmed(seq=1)
        raise RuntimeError("rolled back")
    committed = publish_confirmed(seq=2)
    # then
    wait_until(lambda: _effects() == 1, message="the committed event to be handled")
    time.sleep(0.5)
    assert list(AppliedEffect.objects.values_list("event_id", "seq")) == [(committed.event_id, 2)]
    assert OutboxEvent.objects.count() == 1
    assert OutboxEvent.objects.get().sent_at is not None
    assert list(InboxEvent.objects.values_list("event_id", "consumer")) == [(committed.event_id, "inventory")]
    assert (worker.applied, worker.duplicates, worker.retried, worker.dead_lettered) == (1, 0, 0, 0)
    assert queue_depth(amqp_url, topology.queue_name("inventory")) == 0


def test_commit_nudge_beats_the_sweep(postgres, background, settings):
    # given: a sweep so slow that only the commit nudge can explain a fast delivery
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "RELAY_SWEEP_INTERVAL": 30.0}
    background.relay()
    background.consumer()
    time.sleep(0.3)  # the relay is now idle, waiting on its wake-up socket
    # when
    started = time.monotonic()
    publish_confirmed(seq=1)
    wait_until(lambda: _effects() == 1, timeout=5, interval=0.005)
    # then
    assert time.monotonic() - started < 10.0  # the sweep alone would take 30 s


def test_broker_unreachable_loses_nothing(postgres, background, proxy, amqp_url):
    # given: the relay reaches RabbitMQ only through the proxy, which is cut
    relay = background.relay(broker_url=proxy.url(amqp_url))
    background.consumer()
    publish_confirmed(seq=0)
    wait_until(lambda: _effects() == 1, message="the first event before the outage")
    proxy.cut()
    # when: events are written while the broker is unreachable
    for seq in range(1, 31):
        publish_confirmed(seq=seq)
    time.sleep(1.0)
    # then: nothing went out, nothing is lost
    assert _effects() == 1
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 30
    # when: the broker is back
    proxy.restore()
    wait_until(lambda: _effects() == 31, timeout=20, message="every event after the outage")
    # then: each exactly once (in whatever order: delivery is unordered)
    assert sorted(AppliedEffect.objects.values_list("seq", flat=True)) == list(range(31))
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0
    assert relay.published == 31


def test_relay_killed_after_publish_before_marking_sent_is_applied_once(postgres, background):
    # given: a relay that dies right after the broker confirmed the first row
    class Killed(BaseException):
        pass

    def die(row):
        raise Killed

    row = publish_confirmed(seq=1)
    dying = Relay(on_published=die, listen=False)
    with pytest.raises(Killed):
        dying.relay_batch()
    dying.close()
    assert OutboxEvent.objects.get(id=row.id).sent_at is None
    # when: a healthy relay takes over and republishes
    worker = background.consumer()
    wait_until(lambda: _effects() == 1)
    assert Relay(listen=False).relay_batch() == 1
    # then: two deliveries, one effect
    wait_until(lambda: worker.duplicates == 1, message="the republished copy to be seen as a duplicate")
    assert _effects() == 1
    assert InboxEvent.objects.count() == 1
    assert OutboxEvent.objects.get(id=row.id).sent_at is not None


def test_a_publish_failing_mid_batch_keeps_what_was_confirmed_and_puts_the_rest_back(postgres, events_settings):
    # given: three pending rows, and a broker that refuses the second
    first, second, third = (publish_confirmed(seq=seq) for seq in range(3))
    relay = Relay(listen=False)
    publish = relay._publish
    calls = []

    def refuse_the_second(producer, row):
        calls.append(row.id)
        if len(calls) == 2:
            raise ConnectionError("broker went away")
        publish(producer, row)

    relay._publish = refuse_the_second
    # when: the relay takes its turn
    try:
        with pytest.raises(ConnectionError):
            relay.relay_batch()
    finally:
        relay.close()
    # then: the first stays sent, the second is pending with its failure recorded, the third is pending untouched
    rows = {row.id: row for row in OutboxEvent.objects.all()}
    assert calls == [first.id, second.id]
    assert rows[first.id].sent_at is not None and rows[first.id].publish_attempts == 0
    assert rows[second.id].sent_at is None and rows[second.id].publish_attempts == 1
    assert "broker went away" in rows[second.id].last_error
    assert rows[third.id].sent_at is None and rows[third.id].publish_attempts == 0
    assert relay.published == 1


def test_a_relay_asked_to_stop_mid_batch_puts_back_what_it_did_not_publish(postgres, events_settings):
    # given: three pending rows and a relay asked to stop once the first is confirmed
    _first, second, third = (publish_confirmed(seq=seq) for seq in range(3))
    relay = Relay(listen=False, on_published=lambda row: relay.stop())
    # when: it takes its turn
    try:
        assert relay.relay_batch() == 1
    finally:
        relay.close()
    # then: only the first is sent, and the next relay finds the other two pending
    assert list(OutboxEvent.objects.filter(sent_at__isnull=True).values_list("id", flat=True)) == [second.id, third.id]
    next_relay = Relay(listen=False)
    try:
        assert next_relay.relay_batch() == 2
    finally:
        next_relay.close()


def test_only_the_relay_s_commit_does_not_wait_for_the_disk(postgres, events_settings):
    # given: a pending row, and a relay that looks at its transaction's setting once the broker confirmed
    publish_confirmed(seq=1)
    seen = []

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    relay = Relay(listen=False, on_published=lambda row: seen.append(synchronous_commit()))
    # when
    try:
        assert relay.relay_batch() == 1
    finally:
        relay.close()
    # then: off in the relay's transaction only (marking rows sent; lost in a crash they are sent again),
    # on again in the next transaction of the same connection (a publisher's, a consumer's)
    assert seen == ["off"]
    with transaction.atomic():
        assert synchronous_commit() == "on"


def test_same_event_delivered_three_times_is_applied_once(postgres, background, topology, amqp_url):
    # given
    row = publish_confirmed(seq=7)
    # when: the same message is published three times
    publish_rows(amqp_url, topology, [row] * 3)
    worker = background.consumer()
    # then
    wait_until(lambda: worker.applied + worker.duplicates == 3)
    assert (worker.applied, worker.duplicates) == (1, 2)
    assert list(AppliedEffect.objects.values_list("event_id", "seq")) == [(row.event_id, 7)]


def test_consumer_killed_between_commit_and_ack_applies_once(postgres, background, amqp_url, topology):
    # given: a consumer that "dies" after its commit, before the ack, the first time
    crashes = []

    def crash_once(event):
        if not crashes:
            crashes.append(event.event_id)
            raise ConnectionResetError("killed before ack")

    worker = background.consumer(before_ack=crash_once)
    background.relay()
    # when
    row = publish_confirmed(seq=3)
    # then: redelivered after the reconnect, recognised as a duplicate, acked
    wait_until(lambda: worker.duplicates == 1, timeout=20, message="the redelivery")
    assert crashes == [row.event_id]
    assert _effects() == 1
    assert InboxEvent.objects.count() == 1
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 0, message="an empty queue")


def test_transient_failure_is_retried_with_delay(postgres, background):
    # given
    worker = background.consumer()
    background.relay()
    # when
    publish_confirmed(seq=1, behaviour="fail-once")
    # then
    wait_until(lambda: _effects() == 1)
    assert list(AppliedEffect.objects.values_list("attempt", flat=True)) == [2]
    assert worker.retried == 1
    assert InboxEvent.objects.count() == 1


def test_poison_messages_go_to_the_dlq_with_reason_and_consumer_goes_on(
    postgres, background, topology, amqp_url, monkeypatch
):
    # given: a bad JSON body, an unknown version, a handler that always fails, then a good event
    with publishing_connection(amqp_url) as conn:
        producer = Producer(conn.default_channel)
        for body, key in ((b"{not json", "sales.order.confirmed"), (b'{"event_type": 1}', "purchase.order.received")):
            producer.publish(body, exchange=topology.exchange, routing_key=key, content_type="application/json")
        unknown = publish_confirmed(seq=0)
        raw = unknown.payload.replace('"version":1', '"version":99')
        producer.publish(raw.encode(), exchange=topology.exchange, routing_key="sales.order.confirmed")
    OutboxEvent.objects.all().delete()
    failing = publish_confirmed(seq=1, behaviour="fail-always")
    good = publish_confirmed(seq=2)
    worker = background.consumer()
    background.relay()
    # when
    wait_until(lambda: worker.dead_lettered == 4, timeout=20, message="four dead letters")
    wait_until(lambda: _effects() == 1)
    # then
    assert list(AppliedEffect.objects.values_list("event_id", flat=True)) == [good.event_id]
    dlq = topology.dlq_name("inventory")
    wait_until(lambda: queue_depth(amqp_url, dlq) == 4)
    worker.stop()
    time.sleep(0.5)
    letters = drain(amqp_url, dlq)
    reasons = sorted(message.headers[REASON] for message in letters)
    assert reasons[0].startswith("bad JSON")
    assert "envelope misses fields" in reasons[1]
    assert reasons[2].startswith("handler failed 3 times: RuntimeError('handler failure (fail-always)')")
    assert reasons[3] == "unknown event type or version: sales.order.confirmed v99"
    failed = next(m for m in letters if m.properties.get("message_id") == str(failing.event_id))
    assert failed.headers[ATTEMPT] == 3
    assert failed.headers["x-erp-consumer"] == "inventory"
    assert failed.headers["x-erp-routing-key"] == "sales.order.confirmed"


@pytest.mark.parametrize("service", ["inventory", "sales", "purchase"])
def test_replay_dead_letters_dry_run_as_documented_lists_the_service_s_dead_letters(
    service, events_settings, settings, topology, amqp_url
):
    # given: a service named only by SERVICE_NAME (as every consuming service), one dead letter in its DLQ
    settings.SERVICE_NAME = service
    assert "CONSUMER" not in settings.ERP_EVENTS
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            b"{}", exchange="", routing_key=topology.dlq_name(service), message_id="m-1",
            headers={REASON: "bad JSON"}, retry=False,
        )  # fmt: skip
    out = io.StringIO()
    # when: make manage SERVICE=<service> CMD="replay_dead_letters --dry-run"
    call_command("replay_dead_letters", "--dry-run", stdout=out)
    # then: listed, and left where it was
    assert out.getvalue() == "m-1: bad JSON\nwould move 1 message(s)\n"
    wait_until(lambda: queue_depth(amqp_url, topology.dlq_name(service)) == 1)


def test_the_admin_lists_the_dead_letters_and_leaves_them_where_they_were(
    events_settings, settings, topology, amqp_url, admin_client, django_user_model
):
    # given: two dead letters in inventory's DLQ, as its consumer parks them
    settings.SERVICE_NAME = "inventory"
    dlq = topology.dlq_name("inventory")
    with publishing_connection(amqp_url) as conn:
        for message_id, reason in (("m-1", "bad JSON"), ("m-2", "handler failed 3 times: boom")):
            Producer(conn.default_channel).publish(
                b"{}", exchange="", routing_key=dlq, message_id=message_id, retry=False,
                headers={REASON: reason, ROUTING_KEY: "sales.order.confirmed", ATTEMPT: 3,
                         "x-erp-failed-at": "2026-12-07T03:00:00+00:00"},
            )  # fmt: skip
    manager = django_user_model.objects.create_user(username="im", password="x", is_staff=True)
    manager.groups.add(Group.objects.create(name="inventory_manager"))

    # when: the list the back office's home links its count to, by an admin and by an inventory manager
    response = admin_client.get("/admin/events/inboxevent/dead-letters/")
    admin_client.force_login(manager)
    refused = admin_client.get("/admin/events/inboxevent/dead-letters/")

    # then: both listed, oldest first, with why, for admins only (events.read)...
    assert response.status_code == 200 and refused.status_code == 403
    page = response.content.decode()
    assert f"2 events parked in {dlq}" in page
    rows = re.findall(r"<tr><td>(m-\d)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert rows == [
        ("m-1", "sales.order.confirmed", "bad JSON"),
        ("m-2", "sales.order.confirmed", "handler failed 3 times: boom"),
    ]
    # ... and still there, in order, none of their deliveries used up
    wait_until(lambda: queue_depth(amqp_url, dlq) == 2)
    letters = drain(amqp_url, dlq)
    assert [(m.properties["message_id"], m.headers.get("x-delivery-count", 0)) for m in letters] == [
        ("m-1", 0),
        ("m-2", 0),
    ]


def test_looking_at_a_dead_letter_keeps_its_correlation_id_and_timestamp(events_settings, settings, topology, amqp_url):
    # given: a dead letter as the consumer parks it, with the properties the relay gave the event
    settings.SERVICE_NAME = "inventory"
    dlq = topology.dlq_name("inventory")
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            b"{}", exchange="", routing_key=dlq, message_id="m-1", correlation_id="req-1", timestamp=1_765_000_000,
            headers={REASON: "bad JSON"}, retry=False,
        )  # fmt: skip

    # when: the admin looks at it
    listed = dead_letters_list()

    # then: the copy put back is the letter, its properties included
    assert [letter.message_id for letter in listed] == ["m-1"]
    wait_until(lambda: queue_depth(amqp_url, dlq) == 1)
    (letter,) = drain(amqp_url, dlq)
    properties = letter.properties
    assert (properties["message_id"], properties["correlation_id"], properties["timestamp"]) == (
        "m-1",
        "req-1",
        1_765_000_000,
    )


def test_a_dry_run_uses_up_none_of_a_dead_letter_s_deliveries(events_settings, settings, topology, amqp_url):
    # given: two dead letters in inventory's DLQ, a quorum queue without a delivery limit of its own (RabbitMQ
    # 4.0-4.2 give it 20 and drop a message returned that often, a return on a closing channel included)
    settings.SERVICE_NAME = "inventory"
    dlq = topology.dlq_name("inventory")
    with publishing_connection(amqp_url) as conn:
        for message_id in ("m-1", "m-2"):
            Producer(conn.default_channel).publish(
                b"{}", exchange="", routing_key=dlq, message_id=message_id, headers={REASON: "bad JSON"}, retry=False
            )
    # when: an operator looks three times
    outputs = []
    for _ in range(3):
        out = io.StringIO()
        call_command("replay_dead_letters", "--dry-run", stdout=out)
        outputs.append(out.getvalue())
    # then: listed each time, in order, and still there with no delivery counted against them
    assert outputs == ["m-1: bad JSON\nm-2: bad JSON\nwould move 2 message(s)\n"] * 3
    wait_until(lambda: queue_depth(amqp_url, dlq) == 2)
    letters = drain(amqp_url, dlq)
    assert [(m.properties["message_id"], m.headers.get("x-delivery-count", 0)) for m in letters] == [
        ("m-1", 0),
        ("m-2", 0),
    ]
    assert [m.headers[REASON] for m in letters] == ["bad JSON", "bad JSON"]


def test_a_replayed_letter_the_broker_parked_starts_its_database_retries_afresh(
    events_settings, settings, topology, amqp_url
):
    # given: a letter the broker dead-lettered (delivery limit) after 700 of the consumer's database retries
    settings.SERVICE_NAME = "inventory"
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            b"{}", exchange="", routing_key=topology.dlq_name("inventory"), message_id="m-1", retry=False,
            headers={ATTEMPT: 1, DB_RETRIES: 700, "x-first-death-reason": "delivery_limit"},
        )  # fmt: skip
    # when
    call_command("replay_dead_letters", stdout=io.StringIO())
    # then: back in the service queue with the full budget of MAX_DB_RETRIES, as the consumer's own letters are
    (replayed,) = drain(amqp_url, topology.queue_name("inventory"))
    assert DB_RETRIES not in replayed.headers
    assert replayed.headers[ATTEMPT] == 1
    assert replayed.headers["x-erp-replayed"] == 1


def test_replay_dead_letters_command_replays_a_fixed_poison_message(
    postgres, background, settings, topology, amqp_url, monkeypatch
):
    # given: the consumer dead-lettered an event its handler refused
    poisoned = publish_confirmed(seq=7, behaviour="fail-always")
    worker = background.consumer()
    background.relay()
    wait_until(lambda: worker.dead_lettered == 1, timeout=20)
    assert _effects() == 0
    # and the handler is fixed
    monkeypatch.setitem(worker.handlers, registry.SALES_ORDER_CONFIRMED, _always_apply)
    settings.SERVICE_NAME = "inventory"  # the consumer named by SERVICE_NAME alone, as in inventory_svc
    out = io.StringIO()
    # when: make manage SERVICE=inventory CMD="replay_dead_letters"
    call_command("replay_dead_letters", stdout=out)
    # then: applied once, the DLQ empty
    assert out.getvalue().endswith("moved 1 message(s)\n")
    wait_until(lambda: _effects() == 1)
    assert AppliedEffect.objects.get().event_id == poisoned.event_id
    assert queue_depth(amqp_url, topology.dlq_name("inventory")) == 0


def _always_apply(event):
    AppliedEffect.objects.create(
        event_id=event.event_id, event_type=event.event_type.name, aggregate_id="x", seq=0, attempt=event.attempt
    )


def test_two_relays_and_two_consumers_apply_each_event_once(postgres, background):
    # given
    relays = [background.relay(), background.relay()]
    workers = [background.consumer(), background.consumer()]
    aggregates = [uuid.uuid4() for _ in range(10)]

    # when: 4 writers publish 200 events while everything runs
    def write(start):
        try:
            for seq in range(start, 200, 4):
                publish_confirmed(seq=seq, order_id=aggregates[seq % 10])
        finally:
            from django.db import connections

            connections.close_all()

    writers = [threading.Thread(target=write, args=(start,)) for start in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)
    # then
    wait_until(lambda: _effects() == 200, timeout=30, message="200 effects")
    time.sleep(0.5)
    assert _effects() == 200
    assert AppliedEffect.objects.values("event_id").distinct().count() == 200
    assert InboxEvent.objects.count() == 200
    assert sum(relay.published for relay in relays) == 200
    assert sum(worker.applied for worker in workers) == 200
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0


def test_topology_routes_each_type_to_its_consumers_only(topology, amqp_url):
    # given: declaring twice is harmless; each publish returns once RabbitMQ has routed it (a publisher
    # confirm), so the queues' counts below are complete however loaded the machine is
    with publishing_connection(amqp_url) as conn:
        topology.declare(conn)
        producer = Producer(conn.default_channel)
        # when
        for event_type in (registry.CUSTOMER_CREATED, registry.VENDOR_DELETED, registry.SALES_ORDER_CONFIRMED):
            producer.publish(b"{}", exchange=topology.exchange, routing_key=event_type.name)
        producer.publish(b"{}", exchange=topology.exchange, routing_key=registry.SALES_ORDER_PAID.name)
    # then
    depths = {name: queue_depth(amqp_url, topology.queue_name(name)) for name in ("inventory", "sales", "purchase")}
    assert depths == {"inventory": 1, "sales": 1, "purchase": 1}
    assert topology.retry_name("sales", 0.2) == f"{topology.prefix}sales.events.retry.200ms"


def test_handler_map_must_match_subscriptions(topology):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not bound"):
        EventConsumer(consumer="inventory", handlers={registry.CUSTOMER_CREATED: print})
    with pytest.raises(ImproperlyConfigured, match="unknown consumer"):
        EventConsumer(consumer="gateway", handlers=test_handlers.HANDLERS)


def test_publish_inside_handler_keeps_correlation(postgres, background):
    # given: the event carries a correlation id; handlers run with it as the request id
    from common.request_id import get_request_id, reset_request_id, set_request_id

    seen = []
    token = set_request_id("corr-1")
    try:
        row = publish_confirmed(seq=1)
    finally:
        reset_request_id(token)

    def remember(event):
        seen.append((event.correlation_id, get_request_id()))

    background.consumer(handlers={registry.SALES_ORDER_CONFIRMED: remember})
    background.relay()
    # then
    wait_until(lambda: seen)
    assert seen == [("corr-1", "corr-1")]
    assert row.correlation_id == "corr-1"


def test_event_of_another_version_is_not_the_same_type():
    # given: a v2 would be a constant of its own; v1 data must match v1 fields exactly
    data = {field: getattr(order_data(), field) for field in ("order_id", "customer_id", "total_amount")}
    # when / then
    with pytest.raises(EventDataError, match=r"missing fields \['items'\]"), transaction.atomic():
        publish_event(registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id="x", aggregate_version=1)
    assert OutboxEvent.objects.count() == 0
