"""common.workers: the relay and the consumer as threads beside Celery's worker, in one process."""

from __future__ import annotations

import signal
import threading

import pytest

from common import workers
from common.workers import LoopThread, run_workers


class FakeLoop:
    """A worker loop that runs until stopped, or returns at once when ``ends_by_itself``."""

    def __init__(self, *, ends_by_itself: bool = False, ignores_stop: bool = False):
        self.running = threading.Event()
        self.stopped = threading.Event()
        self.ends_by_itself = ends_by_itself
        self.ignores_stop = ignores_stop
        self._release = threading.Event()

    def run(self) -> None:
        self.running.set()
        if self.ends_by_itself:
            return
        while not (self.stopped.is_set() and not self.ignores_stop) and not self._release.is_set():
            self._release.wait(0.01)

    def stop(self) -> None:
        self.stopped.set()

    def release(self) -> None:
        self._release.set()


def _loop(role: str, fake: FakeLoop) -> LoopThread:
    return LoopThread(role, fake, fake.run)


@pytest.fixture
def celery_worker(monkeypatch):
    """Stand in for ``manage.py celery worker``: record the call, run ``behaviour``, exit as click does."""
    calls = []

    def install(behaviour=lambda: None, exit_code=0):
        def call_command(name, *args):
            calls.append((name, *args))
            behaviour()
            raise SystemExit(exit_code)

        monkeypatch.setattr(workers, "call_command", call_command)
        return calls

    return install


@pytest.fixture
def sigterm_caught():
    """SIGTERM to this process sets the event instead of ending the test run (as Celery's handler stops its worker)."""
    caught = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: caught.set())
    yield caught
    signal.signal(signal.SIGTERM, previous)


def test_the_loops_run_while_the_celery_worker_runs_and_stop_once_it_has(celery_worker):
    # given a relay and a consumer loop, and a Celery worker that checks they run, then stops
    relay, consumer = FakeLoop(), FakeLoop()
    seen_running = []
    calls = celery_worker(lambda: seen_running.extend(loop.running.wait(5) for loop in (relay, consumer)))

    # when
    status = run_workers([_loop("relay", relay), _loop("consumer", consumer)], ["--pool", "solo"])

    # then Celery's worker got its options, both loops ran beside it and were stopped after it
    assert calls == [("celery", "worker", "--pool", "solo")]
    assert seen_running == [True, True]
    assert relay.stopped.is_set() and consumer.stopped.is_set()
    assert status == 0


def test_the_celery_workers_exit_code_is_the_processs(celery_worker):
    # given a Celery worker that exits with 2 (say, a bad option)
    celery_worker(exit_code=2)

    # when
    status = run_workers([_loop("relay", FakeLoop())], [])

    # then
    assert status == 2


def test_a_loop_that_ends_unasked_stops_the_whole_process_with_status_1(celery_worker, sigterm_caught):
    # given a consumer whose loop returns by itself, and a Celery worker that runs until SIGTERM
    calls = celery_worker(lambda: sigterm_caught.wait(5))

    # when
    status = run_workers([_loop("relay", FakeLoop()), _loop("consumer", FakeLoop(ends_by_itself=True))], [])

    # then the process signalled itself (Celery's warm shutdown) and exits as a crash, to be started again
    assert sigterm_caught.is_set()
    assert len(calls) == 1
    assert status == 1


def test_a_loop_still_running_after_the_join_time_makes_the_exit_a_failure(celery_worker, monkeypatch):
    # given a relay that does not stop when asked, and a short join time
    monkeypatch.setattr(workers, "JOIN_SECONDS", 0.2)
    stuck = FakeLoop(ignores_stop=True)
    celery_worker()

    # when
    status = run_workers([_loop("relay", stuck)], [])

    # then
    assert stuck.stopped.is_set()
    assert status == 1
    stuck.release()
