"""What has arrived from the broker is asked of the link, never by a drain with a zero timeout.

py-amqp turns a zero timeout into a non-blocking socket and then loops without end on a frame
only partly arrived. ``broker.has_arrived`` asks the socket instead; the consumer's batch and the
relay's heartbeat reading drain only after it says yes, and then with a bound (``ARRIVED_WAIT``).
"""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import pytest
from kombu import Connection, Consumer, Producer, Queue

from common.events import broker
from common.events.consumer import EventConsumer
from tests.events.testapp.handlers import HANDLERS


@pytest.fixture
def link():
    """A stand-in for a connected amqp link: (the kombu-shaped connection, the broker's end of its socket)."""
    ours, theirs = socket.socketpair()
    conn = SimpleNamespace(
        transport=SimpleNamespace(driver_type="amqp"), _connection=SimpleNamespace(transport=SimpleNamespace(sock=ours))
    )
    yield conn, theirs
    ours.close()
    theirs.close()


def test_nothing_has_arrived_until_the_broker_sends(link):
    conn, broker_end = link
    assert not broker.has_arrived(conn)
    broker_end.sendall(b"\x01\x00")  # the first bytes of a frame: the rest may come later
    assert broker.has_arrived(conn)


@pytest.mark.parametrize(("waits", "gathered"), [({"BATCH_LONE_WAIT": 0.0}, 1), ({"BATCH_WAIT": 0.0}, 2)])
def test_a_zero_wait_applies_the_batch_or_drains_with_a_bound(events_settings, link, waits, gathered):
    # given: a batching consumer whose wait is 0, with one message gathered (or two)
    events_settings.update(BATCH_SIZE=10, **waits)
    worker = EventConsumer(handlers=HANDLERS, consumer="inventory")
    worker._batch = [object()] * gathered
    conn, broker_end = link
    # then: nothing arrived, the batch is applied at once (no drain at all)
    assert worker._next_wait(conn, idle=1.0) is None
    # and: part of a frame arrived, the drain waits for the rest, but only so long
    broker_end.sendall(b"\x01\x00")
    assert worker._next_wait(conn, idle=1.0) == broker.ARRIVED_WAIT > 0


def test_a_message_delivered_on_a_real_link_is_seen_then_drained(postgres, amqp_url, topology):
    # given: a consumer's connection to RabbitMQ, idle
    queue = Queue(f"{topology.prefix}arrived", auto_delete=True)
    received = []
    with Connection(amqp_url) as conn, Connection(amqp_url) as other:
        with Consumer(conn, queues=[queue], callbacks=[lambda body, message: received.append(body)], accept=["json"]):
            assert not broker.has_arrived(conn)
            # when: a message is published to its queue
            Producer(other).publish({"n": 1}, routing_key=queue.name, serializer="json")
            deadline = time.monotonic() + 10
            while not broker.has_arrived(conn) and time.monotonic() < deadline:
                time.sleep(0.01)
            # then: it is seen as arrived, and one bounded drain takes it
            assert broker.has_arrived(conn)
            conn.drain_events(timeout=broker.ARRIVED_WAIT * 100)
    assert received == [{"n": 1}]
