"""Batches (``BATCH_SIZE`` > 1): several delivered messages applied in one transaction, each in a savepoint.

Against the real broker and PostgreSQL. The handler records, beside its effect, the id of
the (top-level) transaction it ran in: ``txid_current()``, the same in every savepoint.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from kombu import Producer

from common.events import PoisonMessage, envelope
from common.events.consumer import EventConsumer, Taken
from common.events.models import InboxEvent
from common.settings.env import filesystem_broker_options
from erp_testkit.broker import publishing_connection, queue_depth
from erp_testkit.faults import wait_until
from tests.events.conftest import publish_confirmed, publish_rows
from tests.events.testapp.handlers import HANDLERS, record_effect
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batches(events_settings):
    """Batches of up to 10, waiting long enough for every queued message to join one."""
    events_settings.update(BATCH_SIZE=10, BATCH_WAIT=0.5, BATCH_LONE_WAIT=0.5)
    return events_settings


TRANSACTION_OF: dict = {}  # event id -> txid_current() of the handler's last run


def record_with_transaction(event) -> None:
    record_effect(event)
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        TRANSACTION_OF[event.event_id] = cursor.fetchone()[0]


RECORDING = {event_type: record_with_transaction for event_type in HANDLERS}


@pytest.fixture(autouse=True)
def _fresh_transaction_record():
    TRANSACTION_OF.clear()


def transactions_of(rows) -> int:
    """How many transactions applied these outbox ``rows`` (each must have been applied)."""
    return len({TRANSACTION_OF[row.event_id] for row in rows})


def seqs_applied() -> list[int]:
    return sorted(AppliedEffect.objects.values_list("seq", flat=True))


def test_a_lone_message_is_applied_without_waiting_batch_wait_out(
    postgres, events_settings, background, amqp_url, topology
):
    # given: batches that would wait 30 s for a next message, and a consumer with nothing else to do
    events_settings.update(BATCH_SIZE=10, BATCH_WAIT=30.0)
    worker = background.consumer(handlers=RECORDING)

    # when: one event comes, then another once the first is applied
    publish_rows(amqp_url, topology, [publish_confirmed(seq=1)])
    wait_until(lambda: worker.applied == 1, timeout=10, message="the first lone event applied")
    publish_rows(amqp_url, topology, [publish_confirmed(seq=2)])

    # then: each applied long before BATCH_WAIT passes (it waited BATCH_LONE_WAIT, 0, for a second one), alone
    wait_until(lambda: worker.applied == 2, timeout=10, message="the second lone event applied")
    assert (worker.batches, seqs_applied()) == (0, [1, 2])


def test_a_backlog_still_goes_in_batches_when_a_lone_message_waits_for_nothing(
    postgres, events_settings, background, amqp_url, topology
):
    # given: the default lone wait (none), and twenty events queued while no consumer runs
    events_settings.update(BATCH_SIZE=10, BATCH_LONE_WAIT=0.0)
    rows = [publish_confirmed(seq=seq) for seq in range(20)]
    publish_rows(amqp_url, topology, rows)

    # when
    worker = background.consumer(handlers=RECORDING)
    wait_until(lambda: worker.applied == 20, timeout=30, message="the backlog applied")

    # then: the first message took the ones the broker had sent with it; the backlog went in a few transactions
    assert worker.batches >= 1
    assert transactions_of(rows) <= 10
    assert seqs_applied() == list(range(20))


@pytest.mark.parametrize(("wait", "lone_wait"), [(-1.0, 0.0005), (0.005, -0.001)])
def test_a_negative_wait_is_refused_when_the_consumer_is_made(events_settings, wait, lone_wait):
    events_settings.update(BATCH_SIZE=10, BATCH_WAIT=wait, BATCH_LONE_WAIT=lone_wait)

    with pytest.raises(ImproperlyConfigured, match="seconds, 0 or more"):
        EventConsumer(handlers=RECORDING, consumer="inventory")


def test_a_batch_commits_its_messages_together_and_a_redelivered_one_once(
    postgres, batches, background, amqp_url, topology
):
    # given: four events queued, the second delivered twice
    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3, 4)]
    publish_rows(amqp_url, topology, [*rows, rows[1]])
    # when
    worker = background.consumer(handlers=RECORDING)
    wait_until(lambda: worker.applied + worker.duplicates == 5, timeout=30, message="five deliveries disposed of")
    # then: one transaction, each event applied once, the queue empty
    assert (worker.applied, worker.duplicates, worker.batches, worker.batches_split) == (4, 1, 1, 0)
    assert seqs_applied() == [1, 2, 3, 4]
    assert transactions_of(rows) == 1
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 0, message="an empty queue")


def test_a_failing_message_is_rolled_back_alone_and_takes_its_own_retry_and_dead_letter_path(
    postgres, batches, background, amqp_url, topology
):
    # given: a batch of two good events, one that fails once and one that always fails
    good = [publish_confirmed(seq=1), publish_confirmed(seq=2)]
    failing_once = publish_confirmed(seq=3, behaviour="fail-once")
    failing = publish_confirmed(seq=4, behaviour="fail-always")
    publish_rows(amqp_url, topology, [good[0], failing_once, failing, good[1]])
    # when
    worker = background.consumer(handlers=RECORDING)
    wait_until(lambda: len(seqs_applied()) == 3 and worker.dead_lettered == 1, timeout=30, message="the retries")
    # then: the good ones committed together at once; the failing ones applied on retry, or dead-lettered, alone
    assert seqs_applied() == [1, 2, 3]
    assert sorted(AppliedEffect.objects.filter(seq__in=[1, 2]).values_list("attempt", flat=True)) == [1, 1]
    assert AppliedEffect.objects.get(seq=3).attempt == 2
    assert transactions_of(good) == 1
    assert not InboxEvent.objects.filter(event_id=failing.event_id).exists()
    assert worker.retried == 1 + 2  # fail-once once; fail-always at each of the two RETRY_DELAYS
    wait_until(lambda: queue_depth(amqp_url, topology.dlq_name("inventory")) == 1, message="one dead letter")


def test_a_consumer_killed_after_the_batch_commit_before_its_acks_applies_each_once(
    postgres, batches, background, amqp_url, topology
):
    # given: a consumer that "dies" at its first ack after the batch's commit
    crashes = []

    def crash_once(event):
        if not crashes:
            crashes.append(event.event_id)
            raise ConnectionResetError("killed before ack")

    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3)]
    publish_rows(amqp_url, topology, rows)
    # when
    worker = background.consumer(handlers=RECORDING, before_ack=crash_once)
    # then: the whole batch is redelivered after the reconnect, and the inbox recognises every message
    wait_until(lambda: worker.duplicates == 3, timeout=30, message="the redeliveries")
    assert crashes == [rows[0].event_id]
    assert seqs_applied() == [1, 2, 3]
    assert transactions_of(rows) == 1
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 0, message="an empty queue")


def test_a_batch_that_cannot_commit_whole_is_applied_one_by_one(postgres, batches, background, amqp_url, topology):
    # given: a batch lock that fails the first time (as a deadlock between two batches would)
    failures = []

    def lock_failing_once(events):
        if not failures:
            failures.append(len(events))
            raise OperationalError("deadlock detected")

    batches["BATCH_LOCK"] = lock_failing_once
    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3)]
    publish_rows(amqp_url, topology, rows)
    # when
    worker = background.consumer(handlers=RECORDING)
    wait_until(lambda: worker.applied == 3, timeout=30, message="three events applied")
    # then: nothing of the failed batch stayed; each event then committed alone, once
    assert failures == [3]
    assert (worker.batches, worker.batches_split, worker.duplicates) == (0, 1, 0)
    assert seqs_applied() == [1, 2, 3]
    assert transactions_of(rows) == 3


def test_a_batch_costs_a_savepoint_and_its_release_per_message_beyond_the_messages_own_queries(postgres, batches):
    # given: five parsed events for the handler that writes one row
    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3, 4, 5)]
    taken = [
        Taken(message=None, event=envelope.parse(row.payload), handler=record_with_transaction, attempt=1, db_retries=0)
        for row in rows
    ]
    worker = EventConsumer(consumer="inventory", handlers=HANDLERS)
    # when
    with CaptureQueriesContext(connection) as queries:
        outcomes = worker._apply_batch(taken)
    # then: one transaction; per message SAVEPOINT, the inbox INSERT, the handler's INSERT (and its
    # txid), RELEASE SAVEPOINT
    assert outcomes == [True] * 5
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements == ["BEGIN", *["SAVEPOINT", "INSERT", "INSERT", "SELECT", "RELEASE"] * 5, "COMMIT"]
    assert seqs_applied() == [1, 2, 3, 4, 5]
    assert transactions_of(rows) == 1


# -- attacks: what may go wrong inside a batch -------------------------------------------------


def test_an_unparseable_message_and_a_handler_poison_inside_a_batch_are_dead_lettered_alone(
    postgres, batches, background, amqp_url, topology
):
    # given: between four good events, a body that is not JSON and an event its handler calls poison
    good = [publish_confirmed(seq=seq) for seq in (1, 2, 3, 4)]
    poison = publish_confirmed(seq=5)

    def poison_seq_5(event):
        if event.data.items[0].quantity == 5:
            raise PoisonMessage("no retry changes this")
        record_with_transaction(event)

    publish_rows(amqp_url, topology, good[:2])
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            b"{not json", exchange=topology.exchange, routing_key=good[0].event_type, content_type="application/json"
        )
    publish_rows(amqp_url, topology, [poison, *good[2:]])
    # when
    worker = background.consumer(handlers={event_type: poison_seq_5 for event_type in HANDLERS})
    wait_until(lambda: worker.applied == 4 and worker.dead_lettered == 2, timeout=30, message="the batch disposed of")
    # then: the good ones committed together, once; each poison in the DLQ, never retried, without an inbox row
    assert seqs_applied() == [1, 2, 3, 4]
    assert transactions_of(good) == 1
    assert (worker.retried, worker.batches_split) == (0, 0)
    assert not InboxEvent.objects.filter(event_id=poison.event_id).exists()
    wait_until(lambda: queue_depth(amqp_url, topology.dlq_name("inventory")) == 2, message="two dead letters")
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 0, message="an empty queue")


def test_the_database_connection_killed_inside_a_batch_rolls_it_back_and_applies_each_message_once(
    postgres, batches, background, amqp_url, topology
):
    # given: the second handler of the batch finds its connection terminated (a failover, a killed backend)
    killed = []

    def killed_at_seq_2(event):
        if event.data.items[0].quantity == 2 and not killed:
            killed.append(connection.connection.info.backend_pid)
            with psycopg.connect(**other_connection_params()) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [killed[0]])
        record_with_transaction(event)

    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3)]
    publish_rows(amqp_url, topology, rows)
    # when
    worker = background.consumer(handlers={event_type: killed_at_seq_2 for event_type in HANDLERS})
    wait_until(lambda: worker.applied == 3, timeout=30, message="three events applied")
    # then: nothing of the batch stayed (the first event's savepoint neither); each one applied alone, once
    assert len(killed) == 1
    assert (worker.batches, worker.batches_split, worker.duplicates, worker.retried) == (0, 1, 0, 0)
    assert seqs_applied() == [1, 2, 3]
    assert transactions_of(rows) == 3
    assert InboxEvent.objects.count() == 3
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 0, message="an empty queue")


def test_a_stop_while_a_batch_is_applied_finishes_and_acks_the_batch_and_takes_no_more(
    postgres, batches, background, amqp_url, topology
):
    # given: a batch whose first handler is slow (1.5 s), seen being applied (its first handler has begun:
    # the consumer's own flags also read "handling, nothing gathered" while it takes the first message)
    rows = [publish_confirmed(seq=1, behaviour="slow"), publish_confirmed(seq=2), publish_confirmed(seq=3)]
    publish_rows(amqp_url, topology, rows)
    applying = threading.Event()

    def record_once_applying(event) -> None:
        applying.set()
        record_with_transaction(event)

    worker = background.consumer(handlers={event_type: record_once_applying for event_type in HANDLERS})
    assert applying.wait(timeout=30), "the batch being applied"
    # when: asked to stop (SIGTERM's worker.stop()) while the batch runs, then more events arrive
    worker.stop()
    background.stop_all()
    publish_rows(amqp_url, topology, [publish_confirmed(seq=4)])
    # then: the batch taken (all three, unless the machine held a delivery back past BATCH_WAIT) applied once,
    # in one transaction, and acked; what was not taken, and the later event, left in the queue
    taken = worker.applied
    assert taken >= 1 and worker.batches == (1 if taken > 1 else 0)
    assert seqs_applied() == list(range(1, taken + 1))
    assert transactions_of(rows[:taken]) == 1
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("inventory")) == 4 - taken, message="the rest")


class AckedMessage:
    """Stands in for a delivered message where only its ack matters."""

    def __init__(self):
        self.acked = 0
        self.headers = {}

    def ack(self):
        self.acked += 1


def delivered(rows, handler) -> list[Taken]:
    """``rows`` as a consumer's gathered batch, each message an :class:`AckedMessage`."""
    return [
        Taken(message=AckedMessage(), event=envelope.parse(row.payload), handler=handler, attempt=1, db_retries=0)
        for row in rows
    ]


def test_two_batches_taking_locks_in_opposite_orders_deadlock_and_the_loser_is_applied_one_by_one(postgres, batches):
    # given: two consumers' batches; each event takes a transaction lock of its own, the second batch in the other
    # order, and each batch's first event waits until the other batch holds its first lock
    holding = threading.Barrier(2, timeout=10)
    met = set()

    def lock_then_record(event):
        seq = event.data.items[0].quantity
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [28_000 + seq % 10])
        if seq in (1, 12) and seq not in met:
            met.add(seq)
            holding.wait()
        record_with_transaction(event)

    first = [publish_confirmed(seq=1), publish_confirmed(seq=2)]  # locks 1 then 2
    second = [publish_confirmed(seq=12), publish_confirmed(seq=11)]  # locks 2 then 1: the opposite order
    workers, batches_of = [], []
    for rows in (first, second):
        worker = EventConsumer(consumer="inventory", handlers={event_type: lock_then_record for event_type in HANDLERS})
        worker._batch = delivered(rows, lock_then_record)
        workers.append(worker)
        batches_of.append(list(worker._batch))
    # when: both flush at once
    threads = [threading.Thread(target=flush_closing, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then: one batch committed whole, the other rolled back and applied one by one; each event once, each acked once
    assert sorted((worker.batches, worker.batches_split) for worker in workers) == [(0, 1), (1, 0)]
    assert seqs_applied() == [1, 2, 11, 12]
    assert InboxEvent.objects.count() == 4
    assert [taken.message.acked for batch in batches_of for taken in batch] == [1, 1, 1, 1]


def flush_closing(worker: EventConsumer) -> None:
    try:
        worker._flush_batch()
    finally:
        connections.close_all()


def other_connection_params() -> dict:
    """libpq parameters of a second connection to the test database."""
    return {key: value for key, value in connection.get_connection_params().items() if key != "cursor_factory"}


def test_a_batch_whose_commit_answer_is_lost_is_recognised_by_the_inbox_and_acked_once(postgres, batches, monkeypatch):
    # given: a batch of three whose COMMIT succeeds on the server but whose answer never arrives
    rows = [publish_confirmed(seq=seq) for seq in (1, 2, 3)]
    worker = EventConsumer(consumer="inventory", handlers=RECORDING)
    worker._batch = delivered(rows, record_with_transaction)
    batch = list(worker._batch)
    real_commit, lost = connection.commit, []

    def commit_then_lose_the_answer():
        real_commit()
        if not lost:
            lost.append(True)
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "commit", commit_then_lose_the_answer)
    # when
    worker._flush_batch()
    # then: the batch committed once; its messages, applied one by one now, are duplicates, each acked once
    assert lost == [True]
    assert (worker.applied, worker.duplicates, worker.batches_split) == (0, 3, 1)
    assert seqs_applied() == [1, 2, 3]
    assert transactions_of(rows) == 1
    assert [taken.message.acked for taken in batch] == [1, 1, 1]


def test_on_the_filesystem_transport_messages_are_applied_one_by_one(batches, settings, tmp_path):
    # given: batches asked for (the fixture's BATCH_SIZE 10), on the embedded default's filesystem broker,
    # whose reader can take a message file before its writer has filled it: polling every BATCH_WAIT would
    # make that race (and the loss of the payload) common
    settings.BROKER_URL = "filesystem://"
    settings.BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(tmp_path / "broker")
    # when: a consumer is made
    worker = EventConsumer(consumer="inventory", handlers=RECORDING)
    # then: it takes one message at a time, as without batches
    assert (worker.batch_size, batches["BATCH_SIZE"]) == (1, 10)
