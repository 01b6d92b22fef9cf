"""Restart a crashed worker of the local run with a short, growing pause; give up on a crash loop.

A relay, consumer or job worker that dies (a crash, an OOM kill, a SIGKILL) is started again, as
compose's ``restart: unless-stopped`` and Kubernetes do: the outbox holds the writes meanwhile, and
the API stays up. honcho itself stops every process when one stops; :class:`RestartingProcess` is
the honcho ``Process`` of such a worker, which runs its command again instead of reporting the stop.
Only a crash loop (more than ``max_restarts`` exits within ``window_seconds``) is reported as the
stop, which ends the run as before, and its cause (the last line the worker wrote) is put on
``causes`` for the run to print last.

It stays inside honcho's own ``Process.run`` (one run per start of the command, through a queue
that keeps the ``stop`` to itself), so honcho's output, ``start`` messages (the manager learns each
new pid, which its SIGTERM and SIGKILL go to) and signal handling are unchanged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import deque
from dataclasses import dataclass

from honcho.printer import Message
from honcho.process import Process


@dataclass(frozen=True)
class RestartPolicy:
    initial_pause: float = 0.5  # seconds before the first restart; doubled at each exit in a row
    max_pause: float = 10.0
    # A worker that exits more than max_restarts times within window_seconds is in a crash loop.
    max_restarts: int = 5
    window_seconds: float = 60.0


class _OneRun:
    """The queue one run of honcho's ``Process.run`` writes to: passes everything on but ``stop``."""

    def __init__(self, events, process: RestartingProcess):
        self.events = events
        self.process = process
        self.returncode: int | None = None
        self.last_line = ""

    def put(self, message: Message) -> None:
        if message.type == "stop":
            self.returncode = message.data["returncode"]
            return
        if message.type == "start" and self.process.stopping.is_set():
            # The run began stopping while this start was under way: its SIGTERM went to the old pid.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(message.data["pid"], signal.SIGTERM)
        if message.type == "line":
            line = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
            self.last_line = line.strip() or self.last_line
        self.events.put(message)


def _ignore(signum, frame) -> None:
    """Do nothing: the signal is the run's to act on, through the manager."""


class RestartingProcess(Process):
    """A honcho process started again each time it exits while the run is not stopping.

    ``stopping`` (a multiprocessing Event) is set by the manager before it terminates the
    processes, so an exit it caused is reported, never restarted.
    """

    def __init__(self, cmd, *, stopping, causes, policy: RestartPolicy, **kwargs):
        super().__init__(cmd, **kwargs)
        self.stopping = stopping
        self.causes = causes
        self.policy = policy

    def run(self, events=None, ignore_signals=False):
        exits: deque[float] = deque()
        pause = self.policy.initial_pause
        while True:
            if ignore_signals:
                # honcho ignores SIGINT/SIGTERM here once its child runs (SIG_IGN), and an ignored
                # signal stays ignored across exec: a command started again would shrug off the
                # run's SIGTERM. A handler that does nothing protects this process alike, and exec
                # resets it to the default for the child.
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, _ignore)
            started = time.monotonic()
            one_run = _OneRun(events, self)
            super().run(one_run, ignore_signals)
            returncode = one_run.returncode
            if self.stopping.is_set():
                break
            now = time.monotonic()
            if now - started >= self.policy.window_seconds:
                pause = self.policy.initial_pause  # it ran well for a while: this exit starts afresh
            exits.append(now)
            while exits and now - exits[0] > self.policy.window_seconds:
                exits.popleft()
            if len(exits) > self.policy.max_restarts:
                cause = (
                    f"{self.name} keeps crashing ({len(exits)} exits within {self.policy.window_seconds:g} s, "
                    f"the last with rc={returncode}); its last line: {one_run.last_line or '(none)'}"
                )
                self.causes.put(cause)
                self._note(events, f"{cause}; not starting it again\n")
                break
            self._note(events, f"{self.name} exited (rc={returncode}); starting it again in {pause:g} s\n")
            if self.stopping.wait(pause):
                break
            pause = min(pause * 2, self.policy.max_pause)
        self._events = events
        self._send_message({"returncode": returncode}, type="stop")

    def _note(self, events, text: str) -> None:
        """Write one supervisor line under this process's name, as honcho writes its output."""
        if events is None:
            return
        events.put(Message(type="line", data=text.encode(), time=self._clock.now(), name=self.name, colour=self.colour))
