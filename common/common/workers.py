"""A service's background work in one process: its Celery worker, with the outbox relay and event consumer as threads.

The local run's lean layout (``scripts/run.py``, ``deploy/Procfile`` ``workers``): every Django process
holds a copy of the whole project (about 70 MiB), so one process per service instead of a relay, a
consumer and a jobs process saves two copies per service (docs/performance.md). compose and Kubernetes
keep them apart (``relay``, ``consumer``, ``worker``, ``beat``), where each scales, is probed and is
restarted on its own. Not on kombu's filesystem transport: its file locks are a process's, so threads
declaring at once corrupt its files (the local run keeps separate processes there, ``on_filesystem_broker``).

The loops are the objects the ``relay_outbox`` and ``consume_events`` commands run, each touching its
own heartbeat file, so ``worker_health relay|consumer|worker|beat`` answers for this process as for the
separate ones. Celery's worker keeps the main thread: it installs the signal handlers, and a SIGTERM
stops it warmly; the loops are then asked to stop (a relay finishes its batch, a consumer its message)
and are joined. A loop that ends by itself (neither does, short of a bug: each retries its broker and
database for ever) stops the whole process with status 1, so that the supervisor starts it again whole
rather than leave it running half its work.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable

from django.core.management import call_command

logger = logging.getLogger(__name__)

# Longer than a relay batch's or a consumer message's work, shorter than the 15 s the local run
# gives a process between SIGTERM and SIGKILL (Celery's own warm shutdown comes first).
JOIN_SECONDS = 8.0


class LoopThread:
    """One event worker's loop (relay or consumer) on a thread of its own."""

    def __init__(self, role: str, loop, run: Callable[[], None]):
        self.role = role
        self.loop = loop
        self.failed = False
        self._run = run
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._main, name=role, daemon=True)

    @classmethod
    def for_role(cls, role: str) -> LoopThread:
        if role == "relay":
            from common.events.relay import Relay

            relay = Relay()
            return cls(role, relay, relay.run_forever)
        from common.events.consumer import EventConsumer

        consumer = EventConsumer()
        return cls(role, consumer, consumer.run)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.loop.stop()

    def join(self, timeout: float) -> bool:
        """Wait for the loop to return; True if it did within ``timeout``."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException:
            logger.exception("%s thread failed", self.role)
        if not self._stopping.is_set():
            # It returned unasked: the process goes (Celery's warm shutdown) and is started again whole.
            self.failed = True
            logger.error("%s thread ended without a stop request: stopping the process", self.role)
            os.kill(os.getpid(), signal.SIGTERM)


def run_workers(loops: list[LoopThread], celery_args: list[str]) -> int:
    """Run ``loops`` on their threads and Celery's worker (``celery_args``) until it stops; return the exit code."""
    for loop in loops:
        loop.start()
    status: int | str | None = 0
    try:
        call_command("celery", "worker", *celery_args)
    except SystemExit as exit_:  # click ends Celery's command line with the worker's exit code
        status = exit_.code
    finally:
        for loop in loops:
            loop.stop()
        for loop in loops:
            if not loop.join(JOIN_SECONDS):
                logger.error("%s thread still running %ss after the stop request", loop.role, JOIN_SECONDS)
                status = 1
    if any(loop.failed for loop in loops):
        return 1
    return status if isinstance(status, int) else 1
