"""The topology's queues: quorum queues, and what happens to a classic queue of the same name."""

from __future__ import annotations

import threading
import time

import pytest
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Producer
from kombu.message import Message

from common.events.dead_letters import dead_letter_reason
from common.events.topology import QUORUM, QueueMigration, Topology, TopologyConflict
from erp_testkit.broker import drain, publishing_connection, queue_depth
from erp_testkit.faults import wait_until


def _declare_classic(amqp_url: str, name: str) -> None:
    with Connection(amqp_url) as conn:
        conn.default_channel.queue_declare(name, durable=True, auto_delete=False)


def _is_quorum(amqp_url: str, name: str, arguments: dict | None = None) -> bool:
    """A queue accepts a redeclaration with its own arguments only: try the quorum ones."""
    with Connection(amqp_url) as conn:
        try:
            conn.default_channel.queue_declare(
                name, durable=True, auto_delete=False, arguments=arguments or dict(QUORUM)
            )
        except PreconditionFailed:
            return False
    return True


def test_every_queue_is_a_quorum_queue_with_at_least_once_retries(topology, amqp_url):
    # when: declared (by the fixture) and declared again
    with Connection(amqp_url) as conn:
        topology.declare(conn)
    # then
    for queue in topology.queues("sales"):
        assert queue.queue_arguments["x-queue-type"] == "quorum"
        assert _is_quorum(amqp_url, queue.name, queue.queue_arguments), queue.name
    retry = topology.retry_queues("sales")[0].queue_arguments
    assert retry["x-dead-letter-strategy"] == "at-least-once"
    assert retry["x-overflow"] == "reject-publish"
    assert retry["x-message-ttl"] == 200


def test_an_empty_classic_queue_of_the_same_name_is_replaced(events_settings, amqp_url):
    # given: a classic queue left by an earlier version, under this test's prefix
    topology = Topology()
    with Connection(amqp_url) as conn:
        topology.delete(conn, ["purchase"])
    _declare_classic(amqp_url, topology.queue_name("purchase"))
    assert not _is_quorum(amqp_url, topology.queue_name("purchase"))
    # when
    with publishing_connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"])
        Producer(conn.default_channel).publish(b"{}", exchange=topology.exchange, routing_key="contact.vendor.created")
    # then: a quorum queue, bound again (the confirmed message counted in its depth a moment later)
    assert _is_quorum(amqp_url, topology.queue_name("purchase"), topology.queue("purchase").queue_arguments)
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("purchase")) == 1, timeout=5)


def test_a_classic_queue_holding_messages_is_kept_and_named_in_a_clear_error(events_settings, amqp_url):
    # given: a classic queue with a message in it
    topology = Topology()
    name = topology.queue_name("purchase")
    with Connection(amqp_url) as conn:
        topology.delete(conn, ["purchase"])
    _declare_classic(amqp_url, name)
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(b"kept", exchange="", routing_key=name)
    # when / then
    with Connection(amqp_url) as conn, pytest.raises(TopologyConflict, match="still holds messages or consumers"):
        topology.declare(conn, ["purchase"])
    # and nothing was lost
    assert [message.body for message in drain(amqp_url, name)] == [b"kept"]


def _publish(amqp_url: str, topology: Topology, *bodies: bytes) -> None:
    with publishing_connection(amqp_url) as conn:
        producer = Producer(conn.default_channel)
        for body in bodies:
            producer.publish(body, exchange=topology.exchange, routing_key="contact.vendor.created")


def test_a_message_redelivered_past_the_delivery_limit_lands_in_the_dlq(events_settings, settings, amqp_url):
    # given: service queues with a delivery limit of 2, and one message in purchase's
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "DELIVERY_LIMIT": 2}
    topology = Topology()
    with Connection(amqp_url) as conn:
        topology.delete(conn, ["purchase"])
        topology.declare(conn, ["purchase"])
    _publish(amqp_url, topology, b"kills its consumer")
    # when: every delivery of it is returned to the queue (what a consumer killed mid-message amounts to)
    returned = 0
    with Connection(amqp_url) as conn:
        queue = topology.queue("purchase").bind(conn.default_channel)
        for _ in range(10):
            message = queue.get(no_ack=False)
            if message is None:
                break
            message.reject(requeue=True)
            returned += 1
    # then: the broker moved it to the DLQ after its third delivery, saying why
    assert returned == 3
    wait_until(lambda: queue_depth(amqp_url, topology.dlq_name("purchase")) == 1, timeout=5)
    (letter,) = drain(amqp_url, topology.dlq_name("purchase"))
    assert letter.body == b"kills its consumer"
    assert letter.headers["x-first-death-reason"] == "delivery_limit"
    assert letter.headers["x-first-death-queue"] == topology.queue_name("purchase")
    assert queue_depth(amqp_url, topology.queue_name("purchase")) == 0
    assert dead_letter_reason(letter.headers) == (
        f"dead-lettered by the broker: delivery_limit in {topology.queue_name('purchase')}"
    )


def _old_release_queue(amqp_url: str, topology: Topology, consumer: str, *bodies: bytes) -> None:
    """The service queue as a release before the delivery limit left it: bound, holding ``bodies``."""
    with Connection(amqp_url) as conn:
        topology.delete(conn, [consumer])
        topology.exchange.declare(channel=conn.default_channel)
        topology.legacy_queue(consumer).declare(channel=conn.default_channel)
    _publish(amqp_url, topology, *bodies)
    assert queue_depth(amqp_url, topology.queue_name(consumer)) == len(bodies)


def test_a_populated_service_queue_of_the_old_shape_is_migrated_by_its_consumer_losing_nothing(
    events_settings, amqp_url
):
    # given: purchase's queue from an earlier release, three events waiting in it
    topology = Topology()
    name = topology.queue_name("purchase")
    _old_release_queue(amqp_url, topology, "purchase", b"1", b"2", b"3")
    # when: another process (a relay) declares the topology
    with Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"])
    # then: it goes on with the queue as it is
    assert _is_quorum(amqp_url, name, topology.legacy_queue("purchase").queue_arguments)
    assert queue_depth(amqp_url, name) == 3
    # when: purchase's consumer declares it
    with Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"], migrate=["purchase"])
    # then: the queue has its delivery limit and dead-lettering, the three events in order, still bound
    assert _is_quorum(amqp_url, name, topology.queue("purchase").queue_arguments)
    _publish(amqp_url, topology, b"4")
    wait_until(lambda: queue_depth(amqp_url, name) == 4, timeout=5)
    assert [message.body for message in drain(amqp_url, name)] == [b"1", b"2", b"3", b"4"]
    with Connection(amqp_url) as conn, pytest.raises(NotFound):
        conn.default_channel.queue_declare(topology.upgrade_name("purchase"), passive=True)


def test_a_service_queue_an_older_consumer_still_reads_is_migrated_only_once_it_stops(events_settings, amqp_url):
    # given: purchase's queue of the old shape with one event, read by a consumer of the previous release
    topology = Topology()
    name = topology.queue_name("purchase")
    _old_release_queue(amqp_url, topology, "purchase", b"1")
    with Connection(amqp_url) as older:
        older.default_channel.basic_qos(0, 1, False)
        older.default_channel.basic_consume(name, callback=lambda message: None)
        # when: the new release's consumer declares it
        with Connection(amqp_url) as conn:
            topology.declare(conn, ["purchase"], migrate=["purchase"])
        # then: left as it is
        assert _is_quorum(amqp_url, name, topology.legacy_queue("purchase").queue_arguments)
    # when: the older consumer is gone (its unacked event back in the queue) and the new one connects again
    wait_until(lambda: queue_depth(amqp_url, name) == 1, timeout=5)
    with Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"], migrate=["purchase"])
    # then: migrated, the event kept
    assert _is_quorum(amqp_url, name, topology.queue("purchase").queue_arguments)
    assert [message.body for message in drain(amqp_url, name)] == [b"1"]


def _declare_until_done(amqp_url: str, topology: Topology, consumer: str) -> None:
    """What a consumer's start amounts to: declare with ``migrate``, again after a refusal (its restart).

    Bounded by time, not by tries: the other consumer's migration holds the queue for as long as moving its
    events takes, which under a whole run's load was more than a hundred short retries.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with Connection(amqp_url) as conn:
                topology.declare(conn, [consumer], migrate=[consumer])
            return
        except TopologyConflict:
            time.sleep(0.05)
    raise AssertionError("never migrated within 60 s")


# A consumer's thread that raises (a queue pulled from under it) fails the test, not only a warning.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_two_consumers_migrating_at_once_while_a_relay_publishes_lose_nothing(events_settings, amqp_url):
    # given: purchase's queue of the old shape with 300 events, two new consumers and a relay starting at once
    topology = Topology()
    name = topology.queue_name("purchase")
    old = [str(n).encode() for n in range(300)]
    _old_release_queue(amqp_url, topology, "purchase", *old)
    new = [f"new-{n}".encode() for n in range(200)]

    def relay():
        with Connection(amqp_url) as conn:
            topology.declare(conn, ["purchase"])  # no migrate: goes on with the old queue
        for start in range(0, len(new), 10):
            _publish(amqp_url, topology, *new[start : start + 10])

    # when
    threads = [threading.Thread(target=_declare_until_done, args=(amqp_url, topology, "purchase")) for _ in range(2)]
    threads.append(threading.Thread(target=relay))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then: migrated, every event there at least once (a copy twice at worst, which the inbox drops), none lost
    assert _is_quorum(amqp_url, name, topology.queue("purchase").queue_arguments)
    with Connection(amqp_url) as conn, pytest.raises(NotFound):
        conn.default_channel.queue_declare(topology.upgrade_name("purchase"), passive=True)
    bodies = [message.body for message in drain(amqp_url, name)]
    assert set(bodies) == set(old) | set(new)


def test_a_consumer_killed_mid_migration_leaves_it_to_the_next_start(events_settings, amqp_url, monkeypatch):
    # given: purchase's queue of the old shape with 50 events, and a consumer whose migration dies after 20 moves
    topology = Topology()
    name = topology.queue_name("purchase")
    old = [str(n).encode() for n in range(50)]
    _old_release_queue(amqp_url, topology, "purchase", *old)
    real_ack = Message.ack
    acks = []

    def dying_ack(message, *args, **kwargs):
        if len(acks) == 20:
            raise SystemExit("SIGKILL")  # after the copy was confirmed, before the original is acked
        acks.append(1)
        return real_ack(message, *args, **kwargs)

    monkeypatch.setattr(Message, "ack", dying_ack)
    with pytest.raises(SystemExit), Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"], migrate=["purchase"])
    monkeypatch.setattr(Message, "ack", real_ack)
    # and: events go on arriving meanwhile
    _publish(amqp_url, topology, b"meanwhile")
    # when: the consumer starts again
    _declare_until_done(amqp_url, topology, "purchase")
    # then: migrated, the holding queue drained and gone, each event there (the one cut off twice)
    assert _is_quorum(amqp_url, name, topology.queue("purchase").queue_arguments)
    with Connection(amqp_url) as conn, pytest.raises(NotFound):
        conn.default_channel.queue_declare(topology.upgrade_name("purchase"), passive=True)
    bodies = [message.body for message in drain(amqp_url, name)]
    assert sorted(set(bodies)) == sorted(set(old) | {b"meanwhile"})
    assert len(bodies) == 52


def test_a_relay_starting_during_a_migration_does_not_bind_the_old_queue_again(
    events_settings, amqp_url, monkeypatch, caplog
):
    # given: purchase's queue of the old shape with one event, its consumer migrating it
    topology = Topology()
    name = topology.queue_name("purchase")
    _old_release_queue(amqp_url, topology, "purchase", b"1")
    wait = QueueMigration._wait_for_delay_queues

    def relay_starts_meanwhile(migration, timeout):
        # when: a relay connects (and declares the topology) once the old queue is unbound, then publishes
        with Connection(amqp_url) as conn:
            topology.declare(conn, ["purchase"])
        _publish(amqp_url, topology, b"2")
        return wait(migration, timeout)

    monkeypatch.setattr(QueueMigration, "_wait_for_delay_queues", relay_starts_meanwhile)
    with Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"], migrate=["purchase"])
    # then: each event once (the later one first: it waited in the holding queue), no false alarm of a late one
    assert [message.body for message in drain(amqp_url, name)] == [b"2", b"1"]
    assert "arrived while it was being migrated" not in caplog.text
