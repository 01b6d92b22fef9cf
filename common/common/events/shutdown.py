"""Stop a worker on SIGTERM or SIGINT within moments, even while it waits on a link that does not answer.

A signal asks the worker to stop after what it is doing (a relay's batch, a
consumer's message). If it is waiting on the broker at that moment (connecting,
a publisher confirm, an idle drain), the wait is abandoned at once: the handler
raises :class:`Interrupted` in the main thread. That is safe because nothing is
half done there: an interrupted relay batch rolls back (its rows stay pending and
are published again: at least once), and a consumer is never interrupted inside a
handler (see ``EventConsumer.interruptible``).

Broker waits are bounded (``common.events.broker``); database waits are not: a
query on a half-open link (a proxy or load balancer that takes the bytes and never
answers, which TCP keepalives cannot see) waits for ever, and libpq has no
client-side timeout. So a worker still running ``grace`` seconds after the signal
has its database connections shut down under it: the blocked query fails as on a
dead link, which the relay and the consumer already handle without loss (the
batch or the handler's transaction did not commit, or it did and the unacked
message is redelivered to the inbox, which recognises it), and they stop (a
reconnect on the way out is bounded by the database ``connect_timeout``). One still
running ``HARD_DEADLINE`` seconds after the signal is waiting on something nobody
bounds: it exits with status 1, after printing where every thread waited, rather than hang
until a supervisor's ``kill -9``. That deadline covers the whole exit, the interpreter's
shutdown included (a thread it must join, a finaliser that blocks), so it is faulthandler's
watchdog thread, not a signal: Python has removed its signal handlers by then.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator

from django.db import connections

GRACE = 3.0  # seconds after the signal before the database links are dropped
# Seconds after the signal before the process exits regardless: under the 15 s that the local run,
# compose (stop_grace_period) and Kubernetes (terminationGracePeriodSeconds) wait before a SIGKILL,
# which would leave no word of where the worker hung; above grace + a database connect_timeout
# (3 + 3 s) with room for a loaded machine's slower exit. ``ERP_WORKER_STOP_DEADLINE`` sets
# another (a supervisor that waits longer; a test on a machine loaded past that room).
HARD_DEADLINE = 13.0


# The longest ERP_WORKER_STOP_DEADLINE: a day. faulthandler refuses nan, inf and past about 1e11 s, and
# it is armed inside the SIGTERM handler, where such a value would raise instead of stopping the worker.
MAX_HARD_DEADLINE = 86_400.0


def hard_deadline_seconds() -> float:
    """Return ``ERP_WORKER_STOP_DEADLINE`` if set (seconds, above 0, at most a day), else ``HARD_DEADLINE``."""
    value = os.environ.get("ERP_WORKER_STOP_DEADLINE")
    if value is None:
        return HARD_DEADLINE
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= MAX_HARD_DEADLINE:  # False for nan too
        raise ValueError(
            f"ERP_WORKER_STOP_DEADLINE must be a number of seconds above 0 and at most {MAX_HARD_DEADLINE:.0f}, "
            f"got {value!r}"
        )
    return seconds


class Interrupted(BaseException):
    """Raised by the signal handler into a broker wait; a BaseException so no ``except Exception`` eats it."""


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None], interruptible: Callable[[], bool] = lambda: False,
                    grace: float = GRACE, hard_deadline: float | None = None) -> Iterator[None]:  # fmt: skip
    """Within the block, SIGTERM and SIGINT call ``stop`` (see the module docstring).

    ``hard_deadline`` defaults to :func:`hard_deadline_seconds`.

    Leaving the block (the worker's loop returned) cancels the grace: the rest of the
    exit, the interpreter's own shutdown included, must not meet a SIGALRM whose handler
    Python has already removed (the process would die of it, rc -14). The hard deadline
    stays armed until the process is gone.
    """
    interrupted = []
    overdue_turns = []
    deadline = hard_deadline_seconds() if hard_deadline is None else hard_deadline

    def handler(signum, frame):
        stop()
        # The first SIGTERM is enough. A second one (a supervisor that signals the whole
        # process group, then each child) must not land in the interpreter's shutdown, where
        # Python has put the default handler back and the process would die of it (rc -15).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not overdue_turns and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0):
            signal.signal(signal.SIGALRM, overdue)
            signal.setitimer(signal.ITIMER_REAL, grace)
            arm_hard_deadline(deadline)
        # Once only: a second signal must not break into the clean-up the first one started.
        if not interrupted and interruptible():
            interrupted.append(signum)
            raise Interrupted

    def overdue(signum, frame):
        overdue_turns.append(signum)
        print(f"worker still busy {grace}s after the stop request: dropping its database links", file=sys.stderr)
        shut_database_sockets()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)


def arm_hard_deadline(seconds: float) -> None:
    """Exit with status 1 in ``seconds`` unless the process is gone, printing every thread's stack first.

    faulthandler's watchdog is a C thread: it fires whatever the main thread is blocked in,
    and in the interpreter's shutdown too, where no Python signal handler runs any more. It
    prints "Timeout (0:00:10)!" and the stacks: where the worker waited.
    """
    faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)


def shut_database_sockets() -> None:
    """Shut down the socket of every open database connection of this thread (signal-safe enough).

    ``shutdown()`` rather than ``close()``: the descriptor stays valid for libpq, whose
    next read sees the end of the stream and fails the query.
    """
    for database in connections.all(initialized_only=True):
        fileno = _fileno(database.connection)
        if fileno is None:
            continue
        with contextlib.suppress(OSError):
            sock = socket.socket(fileno=os.dup(fileno))
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()


def _fileno(connection) -> int | None:
    pgconn = getattr(connection, "pgconn", None)  # psycopg 3; SQLite has no socket to shut
    if pgconn is None:
        return None
    with contextlib.suppress(Exception):
        return pgconn.socket
    return None
