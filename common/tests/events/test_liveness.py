"""The workers' liveness signal: a heartbeat file and ``manage.py worker_health``."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from common.events import liveness
from erp_testkit.faults import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _health(role: str, **options) -> str:
    out = io.StringIO()
    call_command("worker_health", role, stdout=out, **options)
    return out.getvalue()


def test_a_running_relay_and_consumer_are_alive_and_a_stopped_one_is_not(postgres, background, settings, tmp_path):
    # given
    settings.ERP_EVENTS = {**settings.ERP_EVENTS, "WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}.alive")}
    relay = background.relay()
    worker = background.consumer()
    # when / then
    wait_until(lambda: (tmp_path / "relay.alive").exists() and (tmp_path / "consumer.alive").exists())
    assert _health("relay").startswith("relay: alive")
    assert _health("consumer").startswith("consumer: alive")
    relay.stop()
    worker.stop()
    background.stop_all()
    with pytest.raises(CommandError, match="relay: no heartbeat"):
        _health("relay")


def test_a_stale_heartbeat_fails_the_probe(settings, tmp_path):
    # given: a consumer that last showed life 90 s ago (wedged)
    settings.ERP_EVENTS = {"WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}.alive")}
    path = tmp_path / "consumer.alive"
    path.touch()
    os.utime(path, (time.time() - 90, time.time() - 90))
    # when / then
    with pytest.raises(CommandError, match=r"consumer: last heartbeat 90s ago \(limit 60s\)"):
        _health("consumer")
    assert _health("consumer", max_age=120).startswith("consumer: alive")
    assert liveness.heartbeat_path("relay") == tmp_path / "relay.alive"


def test_the_one_background_process_is_alive_only_while_every_loop_it_runs_beats(settings, tmp_path):
    # given: a service with a relay and a consumer, whose Celery worker and beat beat but whose consumer stopped
    settings.ERP_EVENTS = {"WORKER_HEARTBEAT_FILE": str(tmp_path / "{role}.alive"), "HANDLERS": "any.HANDLERS"}
    for role in ("relay", "worker", "beat"):
        (tmp_path / f"{role}.alive").touch()

    # when / then: the probe names the loop that does not beat
    with pytest.raises(CommandError, match="consumer: no heartbeat"):
        _health("workers")
    (tmp_path / "consumer.alive").touch()
    answer = _health("workers").splitlines()
    assert [line.split(": ")[0] for line in answer] == ["relay", "consumer", "worker", "beat"]
    assert all(": alive (last heartbeat " in line for line in answer), answer
