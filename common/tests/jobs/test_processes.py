"""The worker's liveness and the beat lock, on real processes started as deploy/Procfile says.

The test project (``tests.project.settings_jobs``: heartbeat every 0.2 s, a job stuck after
8 s) stands for a service; the probe is ``manage.py worker_health`` with a bound of 3 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from celery import Celery
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from kombu import Connection

from common.settings.env import filesystem_broker_folders, filesystem_broker_options
from erp_testkit.broker import delete_job_names
from erp_testkit.faults import TcpProxy, wait_until
from erp_testkit.processes import database_url, procfile_command

COMMON_DIR = Path(__file__).resolve().parents[2]
# The probe's staleness bound, shortened here rather than the jobs lengthened.
PROBE_MAX_AGE = 3.0


class Process:
    """One process of the test project, started by its Procfile line, its output in a file."""

    def __init__(self, role: str, *, env: dict[str, str], log: Path):
        # The Procfile runs a service's manage.py; the test project has none, so Django's own.
        command = procfile_command(role).replace("python manage.py", f"{sys.executable} -m django")
        self.log = log
        with log.open("w") as output:
            self.popen = subprocess.Popen(
                ["/bin/sh", "-c", command], cwd=COMMON_DIR, env=env, stdout=output, stderr=output
            )

    def count(self, text: str) -> int:
        """How many times ``text`` is in the output; the process must still be running."""
        assert self.popen.poll() is None, self.log.read_text()
        return self.log.read_text().count(text)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def _environment(tmp_path: Path, *, broker_url: str, prefix: str, heartbeat: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.project.settings_jobs",
        "PYTHONPATH": str(COMMON_DIR),
        "DATABASE_URL": database_url(),
        "BROKER_URL": broker_url,
        "ERP_EVENTS_PREFIX": prefix,
        "ERP_DATA_DIR": str(tmp_path),
        "ERP_WORKER_HEARTBEAT_FILE": str(heartbeat),
        "LOG_LEVEL": "INFO",
    }


def _alive(settings, heartbeat: Path, role: str) -> bool:
    """Run the liveness probe (``manage.py worker_health``) on the heartbeat file ``heartbeat``."""
    settings.ERP_EVENTS = {
        **getattr(settings, "ERP_EVENTS", {}),
        "WORKER_HEARTBEAT_FILE": str(heartbeat),
        "WORKER_MAX_AGE": PROBE_MAX_AGE,
    }
    try:
        call_command("worker_health", role, stdout=StringIO())
    except CommandError:
        return False
    return True


@dataclass
class RabbitmqWorker:
    process: Process
    proxy: TcpProxy
    heartbeat: Path
    queue: str
    sender: Celery

    def send(self, name: str, *args) -> None:
        self.sender.send_task(name, args=args, queue=self.queue)

    def consumers(self) -> int:
        """How many consumers the job queue has (RabbitMQ's count)."""
        with Connection(os.environ["BROKER_URL"]) as connection:
            return connection.default_channel.queue_declare(self.queue, passive=True).consumer_count


@pytest.fixture
def rabbitmq_worker(tmp_path):
    """Start the test project's worker on RabbitMQ through a fault proxy, ready."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    queue = f"{prefix}commontest.jobs"
    proxy = TcpProxy()
    heartbeat = tmp_path / "worker-{role}.alive"
    env = _environment(tmp_path, broker_url=proxy.url(os.environ["BROKER_URL"]), prefix=prefix, heartbeat=heartbeat)
    process = Process("worker", env=env, log=tmp_path / "worker.log")
    worker = RabbitmqWorker(
        process, proxy, heartbeat, queue, Celery("sender", broker=os.environ["BROKER_URL"], set_as_current=False)
    )
    try:
        wait_until(lambda: process.count("ready"), timeout=60, message="the worker to start")
        yield worker
    finally:
        process.stop()
        proxy.close()
        worker.sender.close()
        delete_job_names(os.environ["BROKER_URL"], queue)


def test_a_job_longer_than_the_probes_bound_keeps_the_worker_alive_until_it_is_taken_for_stuck(
    rabbitmq_worker, tmp_path, settings
):
    # given: the worker alive, and a job that runs until the test releases it
    worker, heartbeat = rabbitmq_worker.process, rabbitmq_worker.heartbeat
    wait_until(lambda: _alive(settings, heartbeat, "worker"), message="the worker's first heartbeat")
    started, release = tmp_path / "started", tmp_path / "release"

    # when: the job has run for twice the probe's bound
    rabbitmq_worker.send("tests.job_until_released", str(started), str(release))
    wait_until(started.exists, timeout=30, message="the job to start")
    time.sleep(2 * PROBE_MAX_AGE)

    # then: the worker is alive, the job still running
    assert _alive(settings, heartbeat, "worker")
    assert worker.count("succeeded") == 0

    # when: the job runs past STUCK_JOB_SECONDS (8 s)
    # then: it is taken for stuck: the probe fails, and the log says which job
    wait_until(lambda: not _alive(settings, heartbeat, "worker"), timeout=30, message="the stuck job to fail liveness")
    assert worker.count("has run for more than 8.0s: taken for stuck") == 1

    # when: the job ends after all
    release.touch()

    # then: the worker beats again
    wait_until(lambda: worker.count("succeeded") == 1, timeout=30, message="the job to end")
    wait_until(lambda: _alive(settings, heartbeat, "worker"), message="the heartbeat to come back")


def test_a_worker_that_lost_its_broker_fails_liveness_and_passes_again_once_it_is_back(rabbitmq_worker, settings):
    # given: the worker alive and consuming (its consumer and control queues declared)
    worker, proxy, heartbeat = rabbitmq_worker.process, rabbitmq_worker.proxy, rabbitmq_worker.heartbeat
    wait_until(lambda: _alive(settings, heartbeat, "worker"), message="the worker's first heartbeat")
    wait_until(lambda: rabbitmq_worker.consumers() == 1, message="the worker to consume")

    # when: the broker goes away (connections reset, new ones refused)
    proxy.cut()

    # then
    wait_until(lambda: not _alive(settings, heartbeat, "worker"), timeout=30, message="the probe to fail")

    # when: the broker is back
    proxy.restore()

    # then: the worker reconnects and beats again
    wait_until(lambda: _alive(settings, heartbeat, "worker"), timeout=60, message="the heartbeat to come back")
    assert worker.count("Connected to amqp://") == 2


def test_a_worker_whose_connection_broke_while_rabbitmq_still_holds_it_reconnects_and_stays_up(
    rabbitmq_worker, tmp_path, settings
):
    # given: a job running, and `celery inspect` answered
    worker, proxy = rabbitmq_worker.process, rabbitmq_worker.proxy
    rabbitmq_worker.sender.conf.control_exchange = rabbitmq_worker.queue  # the service's (common.jobs.app)
    control = rabbitmq_worker.sender.control
    wait_until(lambda: control.ping(timeout=1.0), timeout=30, message="the worker to answer a ping")
    started, release = tmp_path / "started", tmp_path / "release"
    rabbitmq_worker.send("tests.job_until_released", str(started), str(release))
    wait_until(started.exists, timeout=30, message="the job to start")

    # when: the worker's connection breaks on its side only (RabbitMQ keeps the old one until its
    # heartbeat timeout, minutes), the job ends meanwhile, and the worker reconnects at once
    proxy.reset_clients()
    release.touch()
    wait_until(lambda: worker.count("Connected to amqp://") == 2, timeout=60, message="the worker to reconnect")

    # then: it declares its remote-control queue again beside the old connection's, and answers;
    # it does not exit (RESOURCE_LOCKED on an exclusive queue), nor take the job down with it
    # (Process.count fails the test, with the worker's output, if the worker has exited)
    wait_until(
        lambda: worker.count("Connected to amqp://") and control.ping(timeout=1.0),
        timeout=60,
        message="the reconnected worker to answer a ping",
    )
    assert worker.count("succeeded") == 1
    assert worker.count("RESOURCE_LOCKED") == 0
    wait_until(lambda: _alive(settings, rabbitmq_worker.heartbeat, "worker"), timeout=30, message="the heartbeat")


SENDING = "Sending due task test: every second"
HOLDS = "holds the beat lock of commontest; sending the jobs due"


def _schedule_every_second(tmp_path: Path) -> None:
    """A schedule due every second, whose jobs go into a filesystem broker nobody reads."""
    PeriodicTask.objects.create(
        name="test: every second",
        task="jobs.sessions_prune",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
    )
    for folder in filesystem_broker_folders(filesystem_broker_options(tmp_path / "broker")):
        folder.mkdir(parents=True)


@pytest.mark.django_db(transaction=True)
def test_two_beats_on_postgresql_one_sends_and_the_other_takes_over_when_it_dies(tmp_path, settings):
    # given: a schedule due every second, and jobs sent into a filesystem broker nobody reads
    _schedule_every_second(tmp_path)

    def beat(name: str) -> tuple[Process, Path]:
        heartbeat = tmp_path / f"{name}-{{role}}.alive"
        env = _environment(tmp_path, broker_url="filesystem://", prefix="", heartbeat=heartbeat)
        return Process("beat", env=env, log=tmp_path / f"{name}.log"), heartbeat

    first, _ = beat("first")
    second = None
    try:
        wait_until(lambda: first.count(SENDING), timeout=60, message="the first beat to send")

        # when: a second beat starts
        second, second_heartbeat = beat("second")
        wait_until(lambda: second.count("holds the beat lock"), timeout=60, message="the second beat to wait")
        sent_by_first = first.count(SENDING)
        wait_until(lambda: first.count(SENDING) >= sent_by_first + 3, message="the first beat to send on")

        # then: it waits, alive, and sends nothing; it said so once
        assert second.count(SENDING) == 0
        assert second.count("another beat of commontest holds the beat lock; this one waits") == 1
        assert _alive(settings, second_heartbeat, "beat")

        # when: the first beat dies
        first.popen.send_signal(signal.SIGKILL)
        first.popen.wait(timeout=30)

        # then: the second takes over
        wait_until(lambda: second.count(SENDING), timeout=60, message="the second beat to take over")
        assert second.count("holds the beat lock of commontest; sending the jobs due") == 1
        assert second.count("another beat of commontest holds the beat lock; this one waits") == 1
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()


@pytest.mark.django_db(transaction=True)
def test_a_beat_whose_lock_session_is_terminated_stops_sending_until_one_beat_holds_the_lock_again(tmp_path, settings):
    # given: two beats on one PostgreSQL database, the first holding the lock and sending every second
    _schedule_every_second(tmp_path)
    env = _environment(tmp_path, broker_url="filesystem://", prefix="", heartbeat=tmp_path / "{role}.alive")
    first = Process("beat", env=env, log=tmp_path / "first.log")
    second = None
    try:
        wait_until(lambda: first.count(SENDING), timeout=60, message="the first beat to send")
        second = Process("beat", env=env, log=tmp_path / "second.log")
        wait_until(lambda: second.count("another beat of commontest"), timeout=60, message="the second beat to wait")

        # when: the server ends the first beat's lock session (a database restart, an operator's
        # pg_terminate_backend); its Django connection and its process live on
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            assert cursor.fetchall() == [(True,)]

        # then: the first says it lost the lock; then exactly one of the two takes it (the first,
        # trying again at once, often wins the race) and only that one sends
        wait_until(lambda: first.count("beat: lost the beat lock"), timeout=60, message="the first beat to notice")

        def takers() -> list[Process]:
            return [beat for beat, held_before in ((first, 1), (second, 0)) if beat.count(HOLDS) > held_before]

        holder = wait_until(takers, timeout=60, message="a beat to take the lock again")
        assert len(holder) == 1
        (holder,) = holder
        waiting = second if holder is first else first
        waiting_sent = waiting.count(SENDING)
        holder_sent = holder.count(SENDING)
        wait_until(lambda: holder.count(SENDING) >= holder_sent + 3, timeout=60, message="the holder to send on")
        assert waiting.count(SENDING) == waiting_sent
        assert takers() == [holder]
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()
