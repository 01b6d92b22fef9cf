"""Stop a worker on SIGTERM or SIGINT within moments, even while it waits on a broker that does not answer.

A signal asks the worker to stop after what it is doing (a relay's batch, a
consumer's message). If it is waiting on the broker at that moment (connecting,
a publisher confirm, an idle drain), the wait is abandoned at once: the handler
raises :class:`Interrupted` in the main thread. That is safe because nothing is
half done there: an interrupted relay batch rolls back (its rows stay pending and
are published again: at least once), and a consumer is never interrupted inside a
handler (see ``EventConsumer.interruptible``).
"""

from __future__ import annotations

import signal
from collections.abc import Callable


class Interrupted(BaseException):
    """Raised by the signal handler into a broker wait; a BaseException so no ``except Exception`` eats it."""


def stop_on_signals(stop: Callable[[], None], interruptible: Callable[[], bool] = lambda: False) -> None:
    interrupted = []

    def handler(signum, frame):
        stop()
        # The first SIGTERM is enough. A second one (a supervisor that signals the whole
        # process group, then each child) must not land in the interpreter's shutdown, where
        # Python has put the default handler back and the process would die of it (rc -15).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Once only: a second signal must not break into the clean-up the first one started.
        if not interrupted and interruptible():
            interrupted.append(signum)
            raise Interrupted

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
