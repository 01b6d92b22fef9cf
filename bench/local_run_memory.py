"""Resident memory of the whole local run: start it, wait until healthy, add up every process.

Prints RSS (counts pages shared between gunicorn workers once per process) and PSS
(shares them out), per process group and in total. Loopback only; stops what it starts.
Usage: .venv/bin/python bench/local_run_memory.py [--port-base 18500]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def memory_kib(pid: int) -> tuple[int, int, str]:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return values.get("Rss", 0), values.get("Pss", 0), cmdline


def label(cmdline: str) -> str:
    if "gunicorn" in cmdline:
        return "web " + cmdline.split("--name ")[-1].split()[0] if "--name" in cmdline else "web"
    for word in ("relay_outbox", "consume_events"):
        if word in cmdline:
            return word
    if "celery" in cmdline:
        return "jobs (celery worker + beat)"
    return "supervisor (honcho)" if "run.py" in cmdline else "other"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-base", type=int, default=18500)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="erp-mem-")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ERP_POSTGRES_URL", "BROKER_URL"}}
    env.update({"ERP_DATA_DIR": data_dir, "ERP_PORT_BASE": str(args.port_base)})
    log = open(Path(data_dir) / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/run.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{args.port_base}/health", timeout=3) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            print("local run did not become healthy", file=sys.stderr)
            return 1
        time.sleep(5)  # let every worker finish importing
        groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for pid in descendants(process.pid):
            try:
                rss, pss, cmdline = memory_kib(pid)
            except OSError:
                continue
            group = groups[label(cmdline)]
            group[0] += 1
            group[1] += rss
            group[2] += pss
        print(f"{'processes':<28}{'count':>6}{'RSS MiB':>10}{'PSS MiB':>10}")
        for name, (count, rss, pss) in sorted(groups.items()):
            print(f"{name:<28}{count:>6}{rss / 1024:>10.1f}{pss / 1024:>10.1f}")
        total = [sum(g[i] for g in groups.values()) for i in range(3)]
        print(f"{'total':<28}{total[0]:>6}{total[1] / 1024:>10.1f}{total[2] / 1024:>10.1f}")
        return 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
