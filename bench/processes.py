"""The processes of a local run, read from /proc: who they are and what CPU they have used.

Shared by the benches that start ``scripts/run.py`` (bench/orders.py, bench/local_run_memory.py).
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    """Return ``root`` and every process below it (honcho starts each child in its own session)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name may hold spaces; the parent pid is the 2nd field after it.
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def label(cmdline: str) -> str:
    """The process kind: a web server (by its gunicorn ``--name``), a worker kind, or the supervisor."""
    if "gunicorn" in cmdline:
        return "web " + cmdline.split("--name ")[-1].split()[0] if "--name" in cmdline else "web"
    for word in ("run_workers", "relay_outbox", "consume_events"):
        if word in cmdline:
            return word
    if "celery" in cmdline:
        return "jobs (celery worker + beat)"
    if "seed_demo" in cmdline:
        return "demo seed (one-shot)"
    return "supervisor (honcho)" if "run.py" in cmdline else "other"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (its own, not its reaped children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime and stime are fields 14 and 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def service_folder(pid: int) -> str:
    """The service a process belongs to: the folder it runs in (deploy/Procfile runs each in its own)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).name
    except OSError:
        return "?"


def run_kind(pid: int) -> str:
    """The kind of one of the run's processes, with its service where the command line does not name it."""
    kind = label(command_line(pid))
    if kind in ("run_workers", "relay_outbox", "consume_events", "jobs (celery worker + beat)"):
        return f"{kind} {service_folder(pid)}"
    return kind


def processes_named(word: str) -> list[int]:
    """Every process on the machine whose command line contains ``word`` (e.g. RabbitMQ's ``beam.smp``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if word in command_line(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
