"""A broker link that breaks under a running relay and consumer: half-open (blackholed) or reset.

Through ``erp_testkit.faults.TcpProxy``: the connections that were open stay
frozen for good (bytes taken, never answered, never closed), as behind a load
balancer in a partition; new connections get through. Nothing may hang, nothing may
be lost, nothing applied twice, and SIGTERM must end a worker promptly even then.
"""

from __future__ import annotations

import signal
import time

import pytest

from common.events.models import InboxEvent, OutboxEvent
from erp_testkit.faults import wait_until
from tests.events.conftest import publish_confirmed
from tests.events.test_processes import HANDLERS, STARTED, _env, _exit_of, _start
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 40


def _applied_seqs() -> list[int]:
    return sorted(AppliedEffect.objects.values_list("seq", flat=True))


def _run_through_fault(background, proxy, amqp_url, fault) -> float:
    """Connect a relay and a consumer through ``proxy``, apply ``fault``, publish; return the recovery time."""
    relay = background.relay(broker_url=proxy.url(amqp_url))
    worker = background.consumer(broker_url=proxy.url(amqp_url))
    publish_confirmed(seq=0)
    wait_until(lambda: _applied_seqs() == [0], message="the first event, before the fault")
    # when
    fault()
    started = time.monotonic()
    for seq in range(1, EVENTS + 1):
        publish_confirmed(seq=seq)
    wait_until(lambda: len(_applied_seqs()) >= EVENTS + 1, timeout=60, interval=0.1, message="every event")
    recovered = time.monotonic() - started
    time.sleep(1.0)  # would a late redelivery apply anything twice?
    # then: every event once, none pending, both workers on new connections
    assert _applied_seqs() == list(range(EVENTS + 1))
    assert InboxEvent.objects.count() == EVENTS + 1
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0
    assert relay.published >= EVENTS + 1  # a batch cut off before its commit is published again
    assert worker.applied == EVENTS + 1
    print(f"\n{fault.__name__}: {EVENTS} events delivered {recovered:.1f}s after the fault, 0 lost")
    return recovered


def test_blackholed_link_relay_and_consumer_recover_on_their_own(postgres, background, proxy, amqp_url):
    # given a relay and a consumer connected through the proxy; when the link goes half-open
    _run_through_fault(background, proxy, amqp_url, lambda: proxy.blackhole(new="pass"))
    # then (besides the checks above) the frozen connections were never closed by the proxy
    assert proxy.frozen_connections() >= 2


def test_reset_connections_relay_and_consumer_recover_on_their_own(postgres, background, proxy, amqp_url):
    _run_through_fault(background, proxy, amqp_url, proxy.reset)


def test_sigterm_during_a_blackhole_stops_relay_and_consumer_promptly(postgres, events_settings, proxy, amqp_url):
    # given: relay_outbox and consume_events processes connected through the proxy
    env = _env(events_settings, BROKER_URL=proxy.url(amqp_url))
    relay = _start(["relay_outbox", "--sweep-interval", "0.2"], env)
    consumer = _start(["consume_events", "--consumer", "inventory", "--handlers", HANDLERS], env)
    try:
        publish_confirmed(seq=0)
        wait_until(lambda: _applied_seqs() == [0], timeout=STARTED, message="the first event")
        # when: every link, open or new, is blackholed and an event waits for its confirm
        proxy.blackhole(new="freeze")
        row = publish_confirmed(seq=1)
        time.sleep(1.5)
        started = time.monotonic()
        for process in (relay, consumer):
            process.send_signal(signal.SIGTERM)
        relay_code, relay_out = _exit_of(relay)
        relay_stopped = time.monotonic() - started
        consumer_code, consumer_out = _exit_of(consumer)
        stopped = time.monotonic() - started
    finally:
        for process in (relay, consumer):
            if process.poll() is None:
                process.kill()
    # then: both exited cleanly within moments; the unconfirmed event is still pending, not lost
    # Exit code 0 is the clean stop; the hard shutdown deadline would have exited 1.
    assert (relay_code, consumer_code) == (0, 0), (stopped, relay_out + consumer_out)
    row.refresh_from_db()
    assert row.sent_at is None
    print(f"\nSIGTERM during a blackhole: relay exited in {relay_stopped:.2f}s, both in {stopped:.2f}s")
