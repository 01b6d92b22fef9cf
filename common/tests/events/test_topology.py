"""The topology's queues: quorum queues, and what happens to a classic queue of the same name."""

from __future__ import annotations

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Producer

from common.events.topology import QUORUM, Topology, TopologyConflict
from erp_testkit.broker import drain, queue_depth
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
    with Connection(amqp_url) as conn:
        topology.declare(conn, ["purchase"])
        Producer(conn.default_channel).publish(b"{}", exchange=topology.exchange, routing_key="contact.vendor.created")
    # then: a quorum queue, bound again (a publish without confirms lands a moment later)
    assert _is_quorum(amqp_url, topology.queue_name("purchase"))
    wait_until(lambda: queue_depth(amqp_url, topology.queue_name("purchase")) == 1, timeout=5)


def test_a_classic_queue_holding_messages_is_kept_and_named_in_a_clear_error(events_settings, amqp_url):
    # given: a classic queue with a message in it
    topology = Topology()
    name = topology.queue_name("purchase")
    with Connection(amqp_url) as conn:
        topology.delete(conn, ["purchase"])
    _declare_classic(amqp_url, name)
    with Connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(b"kept", exchange="", routing_key=name)
    # when / then
    with Connection(amqp_url) as conn, pytest.raises(TopologyConflict, match="still holds messages or consumers"):
        topology.declare(conn, ["purchase"])
    # and nothing was lost
    assert [message.body for message in drain(amqp_url, name)] == [b"kept"]
