"""stop_on_signals: the stop request, and deadlines that end with the worker's loop."""

from __future__ import annotations

import os
import signal
import time

import pytest

from common.events.shutdown import stop_on_signals


@pytest.fixture
def restore_signals():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)}
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_leaving_the_block_cancels_the_deadlines_of_a_stop_request(restore_signals):
    # given: a worker asked to stop, whose loop returns before the grace is over
    stopped = []
    with stop_on_signals(lambda: stopped.append(True), grace=0.2, hard_deadline=0.4):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs between two bytecodes of this thread
        armed = signal.getitimer(signal.ITIMER_REAL)[0]
    # when: the rest of the exit takes longer than both deadlines
    time.sleep(0.6)
    # then: stop was asked once, the deadline had been armed, and nothing fired after the loop
    assert stopped == [True]
    assert 0 < armed <= 0.2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
