"""stop_on_signals: the stop request, a grace that ends with the worker's loop, a hard deadline that does not."""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from common.events.shutdown import HARD_DEADLINE, hard_deadline_seconds, stop_on_signals


@pytest.fixture
def restore_signals():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)}
    yield
    faulthandler.cancel_dump_traceback_later()  # the hard deadline would end this test process
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_leaving_the_block_cancels_the_grace_of_a_stop_request(restore_signals):
    # given: a worker asked to stop, whose loop returns before the grace is over
    stopped = []
    with stop_on_signals(lambda: stopped.append(True), grace=0.2, hard_deadline=30):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs between two bytecodes of this thread
        armed = signal.getitimer(signal.ITIMER_REAL)[0]
    # when: the rest of the exit takes longer than the grace
    time.sleep(0.4)
    # then: stop was asked once, the deadline had been armed, and nothing fired after the loop
    assert stopped == [True]
    assert 0 < armed <= 0.2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


WORKER_WHOSE_EXIT_HANGS = textwrap.dedent(
    """
    import os, signal, threading, time
    import django
    from django.conf import settings
    settings.configure()
    django.setup()
    from common.events.shutdown import stop_on_signals

    stop = threading.Event()
    # A thread the interpreter joins at exit and that never ends: the shutdown hangs.
    threading.Thread(target=lambda: threading.Event().wait(), name="never-ends").start()
    with stop_on_signals(stop.set, grace=0.2, hard_deadline=1.0):
        print("ready", flush=True)
        stop.wait()
    print("loop returned", flush=True)
    """
)


def test_the_hard_deadline_ends_an_exit_that_hangs_after_the_loop_with_status_1_and_the_stacks():
    # given: a worker whose loop returns on SIGTERM, but whose interpreter shutdown would never end
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_WHOSE_EXIT_HANGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "ready"
        # when
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    # then: it left its loop, then the deadline ended it with status 1 and said where it waited
    assert worker.returncode == 1, output
    assert "loop returned" in output
    assert "Timeout (0:00:01)!" in output
    assert "threading.py" in output  # the stack of the thread the shutdown waited for


def test_the_hard_deadline_is_13_s_unless_the_environment_sets_another(monkeypatch):
    monkeypatch.delenv("ERP_WORKER_STOP_DEADLINE", raising=False)
    assert hard_deadline_seconds() == HARD_DEADLINE == 13.0

    monkeypatch.setenv("ERP_WORKER_STOP_DEADLINE", "40")
    assert hard_deadline_seconds() == 40.0


@pytest.mark.parametrize("value", ["0", "-1", "soon", "", "nan", "inf", "-inf", "1e400", "1e12", "86401"])
def test_a_hard_deadline_that_is_not_seconds_above_0_up_to_a_day_stops_the_worker_at_its_start(
    monkeypatch, restore_signals, value
):
    monkeypatch.setenv("ERP_WORKER_STOP_DEADLINE", value)

    with pytest.raises(ValueError, match="ERP_WORKER_STOP_DEADLINE"), stop_on_signals(lambda: None):
        pass


def test_the_longest_hard_deadline_accepted_is_one_faulthandler_can_arm(monkeypatch):
    # nan, inf or 1e12 s passed the start, then raised inside the SIGTERM handler (faulthandler refuses them)
    import faulthandler

    monkeypatch.setenv("ERP_WORKER_STOP_DEADLINE", "86400")
    faulthandler.dump_traceback_later(hard_deadline_seconds(), exit=True)
    faulthandler.cancel_dump_traceback_later()
