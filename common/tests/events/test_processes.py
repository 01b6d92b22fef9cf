"""The management commands as real processes: SIGTERM, the filesystem transport, reconnection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from kombu import Connection

from common.events.models import InboxEvent
from common.events.relay import Relay
from common.events.shutdown import HARD_DEADLINE
from common.settings.env import filesystem_broker_folders, filesystem_broker_options
from erp_testkit.faults import wait_until
from tests.events.conftest import RETRY_DELAYS, publish_confirmed
from tests.events.testapp.models import AppliedEffect

pytestmark = pytest.mark.django_db(transaction=True)

COMMON_DIR = Path(__file__).resolve().parents[2]
HANDLERS = "tests.events.testapp.handlers.HANDLERS"


def _env(events_settings, **extra) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(COMMON_DIR),
        DJANGO_SETTINGS_MODULE="tests.project.settings",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        ERP_EVENTS_PREFIX=events_settings["PREFIX"],
        ERP_EVENTS_RETRY_DELAYS=",".join(str(delay) for delay in RETRY_DELAYS),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "django", *command],
        cwd=COMMON_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# Longer than the workers' own hard deadline: a worker stuck past it exits with status 1 and the
# traceback of where it waited, which says more than a timeout here (and a clean stop slowed by a
# loaded machine is still a clean stop: the tests assert exit status 0, never a duration).
EXIT_WAIT = HARD_DEADLINE + 5
# What a wait that includes a worker process's start allows: Django's start and a first connect take
# seconds on a loaded 2-core machine (a wait for an effect that must come, so a long bound costs nothing).
STARTED = 60
# The hard deadline of workers in tests about a clean stop under load (ERP_WORKER_STOP_DEADLINE): a whole make test's
# load took a clean stop past the 13 s default (the deadline itself has tests of its own: test_shutdown.py).
STOP_DEADLINE = 40


def _stop(process: subprocess.Popen, timeout: float = EXIT_WAIT) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return _exit_of(process, timeout)


def _exit_of(process: subprocess.Popen, timeout: float = EXIT_WAIT) -> tuple[int, str]:
    """Wait for an exit already asked for (no second signal: it could land in the interpreter's shutdown)."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"process ignored SIGTERM for {timeout}s:\n{output}")
    return process.returncode, output


def _ready_count(amqp_url: str, queue: str) -> int:
    with Connection(amqp_url) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count


def test_relay_outbox_command_publishes_and_stops_on_sigterm(postgres, events_settings, background, amqp_url):
    # given
    row = publish_confirmed(seq=1)
    background.consumer()
    # when
    relay = _start(["relay_outbox", "--sweep-interval", "0.2"], _env(events_settings))
    try:
        wait_until(
            lambda: AppliedEffect.objects.count() == 1, timeout=STARTED, message="the relayed event to be handled"
        )
    finally:
        code, output = _stop(relay)
    # then
    assert code == 0, output
    row.refresh_from_db()
    assert row.sent_at is not None


def test_consume_events_command_finishes_the_current_message_on_sigterm(postgres, events_settings, topology, amqp_url):
    # given: a slow handler (1.5 s) is running when SIGTERM arrives
    publish_confirmed(seq=1, behaviour="slow")
    assert Relay(listen=False).relay_batch() == 1
    queue = topology.queue_name("inventory")
    consumer = _start(["consume_events", "--consumer", "inventory", "--handlers", HANDLERS], _env(events_settings))
    try:
        wait_until(
            lambda: _ready_count(amqp_url, queue) == 0, timeout=STARTED, message="the consumer to take the message"
        )
        started = time.monotonic()
    finally:
        code, output = _stop(consumer)
    # then: the message was finished (committed and acked), not abandoned half-way
    assert code == 0, output
    assert time.monotonic() - started < 8
    assert AppliedEffect.objects.count() == 1
    assert _ready_count(amqp_url, queue) == 0


def test_filesystem_transport_carries_an_event_to_another_process(
    postgres, events_settings, settings, tmp_path, monkeypatch
):
    # given: this process publishes through the filesystem transport in a shared folder...
    monkeypatch.setenv("ERP_DATA_DIR", str(tmp_path))
    folder = tmp_path / "broker"
    settings.BROKER_URL = "filesystem://"
    settings.BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(folder)
    for path in filesystem_broker_folders(settings.BROKER_TRANSPORT_OPTIONS):
        path.mkdir(parents=True)
    row = publish_confirmed(seq=4, behaviour="fail-once")
    assert Relay(listen=False).relay_batch() == 1
    assert len(list((folder / "out").iterdir())) == 1
    # when: ...and a consumer process reads the same folder (no BROKER_URL: the filesystem default)
    env = _env(events_settings, ERP_DATA_DIR=str(tmp_path))
    env.pop("BROKER_URL", None)
    consumer = _start(["consume_events", "--consumer", "inventory", "--handlers", HANDLERS], env)
    try:
        wait_until(
            lambda: AppliedEffect.objects.count() == 1, timeout=STARTED, message="the event in the other process"
        )
    finally:
        code, output = _stop(consumer)
    # then: applied once, after one delayed retry (the transport has no TTL: not-before header)
    assert code == 0, output
    effect = AppliedEffect.objects.get()
    assert (effect.event_id, effect.seq, effect.attempt) == (row.event_id, 4, 2)
    assert list((folder / "out").iterdir()) == []


def test_consumer_reconnects_after_the_broker_connection_drops(postgres, background, proxy, amqp_url):
    # given
    worker = background.consumer(broker_url=proxy.url(amqp_url))
    background.relay()
    publish_confirmed(seq=1)
    wait_until(lambda: AppliedEffect.objects.count() == 1)
    # when: the broker "restarts"
    proxy.cut()
    time.sleep(0.5)
    publish_confirmed(seq=2)
    time.sleep(0.5)
    proxy.restore()
    # then
    wait_until(lambda: AppliedEffect.objects.count() == 2, timeout=20, message="the consumer to reconnect")
    assert sorted(AppliedEffect.objects.values_list("seq", flat=True)) == [1, 2]
    # the effect commits a moment before the worker counts it
    wait_until(lambda: worker.applied == 2, message="the worker to count both events")


def test_consume_events_with_batches_on_sigterm_leaves_each_message_applied_once_or_queued(
    postgres, events_settings, topology, amqp_url
):
    # given: a batch of four taken by a consumer process whose first handler is slow (1.5 s)
    for seq, behaviour in ((1, "slow"), (2, "ok"), (3, "ok"), (4, "ok")):
        publish_confirmed(seq=seq, behaviour=behaviour)
    assert Relay(listen=False).relay_batch() == 4
    queue = topology.queue_name("inventory")
    env = _env(events_settings, ERP_EVENTS_BATCH_SIZE="10", ERP_WORKER_STOP_DEADLINE=str(STOP_DEADLINE))
    consumer = _start(["consume_events", "--consumer", "inventory", "--handlers", HANDLERS], env)
    try:
        wait_until(lambda: _ready_count(amqp_url, queue) == 0, timeout=STARTED, message="the consumer to take all")
    finally:
        code, output = _stop(consumer, timeout=STOP_DEADLINE + 5)
    # then: a clean exit; what the consumer had taken (all four, unless the machine held a delivery back past
    # BATCH_WAIT, or none if stopped while gathering) applied once, the rest back in the queue
    assert code == 0, output
    applied = sorted(AppliedEffect.objects.values_list("seq", flat=True))
    assert applied == list(range(1, len(applied) + 1))
    assert InboxEvent.objects.count() == len(applied)
    wait_until(lambda: _ready_count(amqp_url, queue) == 4 - len(applied), message="the rest back in the queue")
