"""Restart a crashed worker of the local run with a short, growing pause; give up on a crash loop.

A relay, consumer or job worker that dies (a crash, an OOM kill, a SIGKILL) is started again, as
compose's ``restart: unless-stopped`` and Kubernetes do: the outbox holds the writes meanwhile, and
the API stays up. honcho itself stops every process when one stops; :class:`RestartingProcess` is
the honcho ``Process`` of such a worker, which runs its command again instead of reporting the stop.
Only a crash loop (more than ``max_restarts`` exits within ``window_seconds``) is reported as the
stop, which ends the run as before, and its cause (the last line the worker wrote) is put on
``causes`` for the run to print last.

Every process's output reaches the terminal a chunk of whole lines at a time
(:class:`GatheringProcess`, :class:`ChunkPrinter`), not line by line as honcho sends it.
``GatheringProcess.run`` is honcho's ``Process.run`` with only its read loop changed (a test
compares the two), and a restart runs it once per start of the command, through a queue that
keeps the ``stop`` to itself, so honcho's output, ``start`` messages (the manager learns each
new pid, which its SIGTERM and SIGKILL go to) and signal handling are unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import io
import os
import signal
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from honcho.printer import Message, Printer
from honcho.process import Process

# How long a process's reader gathers its output before passing it on. honcho reads a line and
# sends it through the manager's queue (a pickle, a pipe, a print and a flush each): under load a
# web server writes a line per request, and that relay was 3-4% of the platform's CPU per order
# (docs/performance.md, "Orders under load"). Gathered, a busy server's lines go at most 20 times a
# second per process, whatever the request rate; a person at the terminal does not see 50 ms.
GATHER_SECONDS = 0.05
# The most one read takes from a process's pipe, and the pipe's size (64 KiB on Linux unless grown):
# a process writes on while its pipe has room, so up to READ_BYTES per GATHER_SECONDS (5 MiB/s)
# before the reader's wait holds it back. Each pipe counts against the user's pipe-user-pages-soft
# (64 MiB), which a run's processes must leave room in.
READ_BYTES = 256 * 1024


def whole_lines(stream: BinaryIO, gather_seconds: float = GATHER_SECONDS) -> Iterator[bytes]:
    """Yield what is read from the pipe ``stream`` as chunks of whole lines, each ending in a newline, until it closes.

    A read blocks until there is output, so an idle process costs nothing. After a read that
    drained the pipe the reader waits ``gather_seconds`` for the lines written meanwhile, which
    the next read takes together. A process writes on while the pipe has room, so the pipe is
    grown to READ_BYTES (Linux), and a full read is followed by the next one at once.
    A line not yet ended waits for the rest of it (as honcho's ``readline`` did); at the end of
    the stream it is yielded as it is.
    """
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or over the user's pipe limit
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, READ_BYTES)
    pending = bytearray()  # grown in place: a long line is not copied again at each read
    while data := stream.read1(READ_BYTES):
        end = data.rfind(b"\n") + 1
        if not end:
            pending += data
            continue
        chunk = bytes(pending + data[:end])
        pending = bytearray(data[end:])
        yield chunk
        if len(data) < READ_BYTES:
            time.sleep(gather_seconds)
    if pending:
        yield bytes(pending)


class GatheringProcess(Process):
    """A honcho process whose output goes to the manager in chunks of whole lines (:func:`whole_lines`).

    honcho's ``Process.run`` with one change: the loop that read the child's output line by line.
    """

    def run(self, events=None, ignore_signals=False):
        self._events = events
        self._child = self._child_ctor(self.cmd, env=self.env, cwd=self.cwd)
        self._send_message({"pid": self._child.pid}, type="start")
        if ignore_signals:
            # As honcho: the run's signals are the manager's to act on; this reader ends with its child's output.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for chunk in whole_lines(self._child.stdout):
            if not self.quiet:
                self._send_message(chunk)
        self._child.stdout.close()
        self._child.wait()
        self._send_message({"returncode": self._child.returncode}, type="stop")


class ChunkPrinter(Printer):
    """honcho's printer, writing a message of several lines with one write and one flush, not one per line."""

    def write(self, message):
        # honcho's Printer.write prints each line to its ``output``: a copy of this printer formats
        # into a buffer, so this one is never changed. The manager's signal handler writes too
        # ("SIGINT received"), and may run in the middle of this write; its lines go out on their own.
        formatting = copy.copy(self)
        formatting.output = io.StringIO()
        Printer.write(formatting, message)  # honcho's prefixes and colours
        self.output.write(formatting.output.getvalue())
        self.output.flush()


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
            text = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
            lines = text.strip().splitlines()  # a chunk of several lines (GatheringProcess): its last
            self.last_line = lines[-1].strip() if lines else self.last_line
        self.events.put(message)


def _ignore(signum, frame) -> None:
    """Do nothing: the signal is the run's to act on, through the manager."""


class RestartingProcess(GatheringProcess):
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
