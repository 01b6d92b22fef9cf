"""The database link breaking under a running relay and consumer (a ``TcpProxy`` in front of PostgreSQL).

A reset is noticed at once; a blackhole (bytes taken, never answered) is not: a
query on a frozen link waits for good. Whatever the link does, no message is acked
without its inbox row, nothing is lost, and SIGTERM ends the worker within moments.
"""

from __future__ import annotations

import signal
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction
from kombu import Producer

from common.events import envelope
from common.events.models import InboxEvent, OutboxEvent
from erp_testkit.broker import publishing_connection
from erp_testkit.faults import TcpProxy, wait_until
from tests.events.conftest import order_data, publish_confirmed
from tests.events.test_processes import HANDLERS, STARTED, STOP_DEADLINE, _env, _exit_of, _ready_count, _start
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def db_proxy():
    settings = connection.settings_dict
    proxy = TcpProxy(target=(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    yield proxy
    proxy.close()


def _through(proxy: TcpProxy, env: dict[str, str]) -> dict[str, str]:
    parts = urlsplit(env["DATABASE_URL"])
    credentials = parts.netloc.rpartition("@")[0]
    return env | {"DATABASE_URL": urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))}


def _send_directly(amqp_url: str, topology, seq: int) -> None:
    """Put an event on the queue without the outbox (the relay may be stuck on the database)."""
    data = order_data(seq=seq)
    _, body = envelope.build(
        envelope.registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=data.order_id, aggregate_version=1
    )
    with publishing_connection(amqp_url) as conn:
        Producer(conn.default_channel).publish(
            body.encode(), exchange=topology.exchange, routing_key="sales.order.confirmed", retry=False
        )


def test_sigterm_while_the_database_is_blackholed_stops_relay_and_consumer_promptly(
    postgres, events_settings, topology, db_proxy, amqp_url
):
    # given: relay_outbox and consume_events reach PostgreSQL through the proxy; their hard deadline past the
    # room a loaded test run leaves (a whole make test's load took the clean stop past 13 s twice): the test is
    # about a clean stop, the deadline has tests of its own (test_shutdown.py)
    env = {**_through(db_proxy, _env(events_settings)), "ERP_WORKER_STOP_DEADLINE": str(STOP_DEADLINE)}
    relay = _start(["relay_outbox", "--sweep-interval", "0.2"], env)
    consumer = _start(["consume_events", "--consumer", "inventory", "--handlers", HANDLERS], env)
    queue = topology.queue_name("inventory")
    try:
        publish_confirmed(seq=0)
        wait_until(lambda: AppliedEffect.objects.count() == 1, timeout=STARTED, message="the first event")
        # when: every database link freezes while the consumer holds a message and the relay sweeps
        db_proxy.blackhole(new="freeze")
        with transaction.atomic():
            pending = publish_confirmed(seq=1)
        _send_directly(amqp_url, topology, seq=2)
        wait_until(
            lambda: _ready_count(amqp_url, queue) == 0, timeout=STARTED, message="the consumer to take the message"
        )
        time.sleep(1.0)
        started = time.monotonic()
        for process in (relay, consumer):
            process.send_signal(signal.SIGTERM)
        relay_code, relay_out = _exit_of(relay, timeout=STOP_DEADLINE + 5)
        consumer_code, consumer_out = _exit_of(consumer, timeout=STOP_DEADLINE + 5)
        stopped = time.monotonic() - started
    finally:
        for process in (relay, consumer):
            if process.poll() is None:
                process.kill()
    # then: both stopped within moments; nothing was acked without its inbox row, nothing lost
    # A clean stop is exit code 0; the hard shutdown deadline would have exited 1 (no wall-clock bound here:
    # timings belong in bench/, and a loaded machine stretches them).
    if (relay_code, consumer_code) != (0, 0):  # whole (an assertion's message is cut short): where each waited
        pytest.fail(f"exit codes {relay_code}, {consumer_code} after {stopped:.1f} s\n{relay_out}\n{consumer_out}")
    assert InboxEvent.objects.count() == 1
    # the message met the database error: its retry copy comes back to the queue, unapplied
    wait_until(lambda: _ready_count(amqp_url, queue) == 1, message="the unapplied message back on the queue")
    pending.refresh_from_db()
    assert pending.sent_at is None
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 1
    print(f"\nSIGTERM with the database blackholed: both exited in {stopped:.2f}s")


def _delivered_within(seconds: float, *, seq: int) -> bool:
    """Publish one event and tell whether the consumer applied it within ``seconds``."""
    publish_confirmed(seq=seq)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if AppliedEffect.objects.filter(seq=seq).exists():
            return True
        time.sleep(0.05)
    return False


def test_relay_listens_again_after_its_database_link_was_reset(postgres, events_settings, background, db_proxy):
    # given: a relay whose sweep is slow (5 s), so only LISTEN/NOTIFY can deliver within 2 s
    env = _through(db_proxy, _env(events_settings))
    relay = _start(["relay_outbox", "--sweep-interval", "5"], env)
    background.consumer()
    try:
        wait_until(lambda: db_proxy.live_connections() >= 2, timeout=STARTED, message="the relay's connections")
        time.sleep(0.5)
        assert _delivered_within(2.0, seq=1), "woken by NOTIFY before the fault"
        # when: every database link of the relay is reset (a database restart or failover)
        db_proxy.reset()
        # then: once its sweep ran again, it is woken by NOTIFY again, not left to the sweep
        time.sleep(6.0)  # one sweep: the relay reconnects its main link and listens again
        assert _delivered_within(2.0, seq=2), "not woken by NOTIFY after the reset"
    finally:
        relay.send_signal(signal.SIGTERM)
        code, output = _exit_of(relay)
    assert code == 0, output
