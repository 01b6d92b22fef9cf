"""Race tests on PostgreSQL: run code in threads of their own, and wait until one blocks on a lock.

Each :class:`Worker` has its own database connection (Django gives every thread one)
and closes it when done. :func:`wait_until_blocked_or_done` polls ``pg_stat_activity``
instead of sleeping a fixed time, so a test is deterministic and fast.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


class Worker(threading.Thread):
    """Run ``fn`` in its own thread and database connection; keep its result or exception."""

    def __init__(self, fn: Callable[[], Any]):
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def wait_until_blocked_or_done(worker: Worker, timeout: float = 5.0) -> None:
    """Return once ``worker`` waits on a lock (or has finished)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while worker.is_alive() and time.monotonic() < deadline:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)


def paused_after(monkeypatch, module, name: str) -> tuple[threading.Event, threading.Event]:
    """Make ``module.<name>`` stop after it ran, until released; return ``(reached, release)``.

    Patch a function a service calls inside its transaction (writing its event) to hold
    that transaction open while a second caller runs into the lock.
    """
    original = getattr(module, name)
    reached, release = threading.Event(), threading.Event()

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        reached.set()
        assert release.wait(10), "never released"
        return result

    monkeypatch.setattr(module, name, paused)
    return reached, release


def race(monkeypatch, module, *, hold: str, call: Callable[[], Any]) -> tuple[Worker, Worker]:
    """Run ``call`` twice at once, the first held inside ``module.<hold>`` until the second blocks.

    ``hold`` names a function ``call`` runs inside its transaction (writing its event):
    the first caller stops there, holding its row locks; the second starts and runs into
    them; then the first is released. Returns both finished workers (result or error).
    """
    return race_between(monkeypatch, module, hold=hold, first=call, second=call)


def race_between(
    monkeypatch, module, *, hold: str, first: Callable[[], Any], second: Callable[[], Any]
) -> tuple[Worker, Worker]:
    """:func:`race` of two calls: ``first`` held inside ``module.<hold>`` while ``second`` runs into its locks.

    Both workers have finished when it returns (a worker still running after 10 s fails:
    a deadlock or a lock never released).
    """
    reached, release = paused_after(monkeypatch, module, hold)
    workers = [Worker(first)]
    workers[0].start()
    assert reached.wait(10), f"{hold} was never reached"
    workers.append(Worker(second))
    workers[1].start()
    wait_until_blocked_or_done(workers[1])
    release.set()
    for worker in workers:
        worker.join(10)
        assert not worker.is_alive(), "a worker is still running (a deadlock?)"
    return workers[0], workers[1]
