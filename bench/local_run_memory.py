"""Memory of the whole local run after a load: start it, load it, add up every process.

Starts ``scripts/run.py`` on spare ports with a data dir of its own, on PostgreSQL + RabbitMQ
(``--on postgres``: databases ``<db-prefix><tag>_*`` and broker names ``mem<tag>.*``, removed
afterwards) or on the embedded default (``--on embedded``: SQLite and the kombu filesystem
broker). Once the gateway is healthy and the demo orders are seeded, ``--clients`` create and
confirm one-unit sales orders through the gateway for ``--load-seconds`` (bench/orders.py's
load), the bench waits until inventory has issued every one, then reads every process of the
run from /proc: RSS (pages shared between processes counted once per process) and PSS (shared
pages divided among the processes that map them, so the total is what the run costs), per
process kind and in total. The PostgreSQL and RabbitMQ servers are shared and not counted.
Loopback only; stops what it starts.

``--json FILE`` also writes, per run, the same figures by finer kinds (a web server's gunicorn
master apart from its workers, relays and consumers by service) with the largest process of each,
for bench/capacity.py. ``--worker-replicas 1`` runs each service's relay and consumer as processes
of their own beside its jobs process (the containers' layout), so each has its own figure.

Usage: .venv/bin/python bench/local_run_memory.py [--on postgres|embedded|both] [--load-seconds 15]
    [--clients 8] [--port-base 27700] [--db-prefix erp_mem_] [--worker-replicas N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from orders import AMQP_URL, FM, PG_SERVER, Api, cleanup, load, stock_one_item, wait_for  # noqa: E402
from processes import command_line, descendants, label, run_kind  # noqa: E402
from run import taken_ports  # noqa: E402 (scripts/, on the path through orders)

# The run's own environment decides these; the bench sets them per --on.
RUN_SETTINGS = {"DATABASE_URL", "ERP_POSTGRES_URL", "BROKER_URL", "ERP_DB_PREFIX", "ERP_EVENTS_PREFIX", "DJANGO_DEBUG"}


def memory_kib(pid: int) -> tuple[int, int, str]:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
    return values.get("Rss", 0), values.get("Pss", 0), command_line(pid)


def start_run(on: str, data_dir: Path, port_base: int, db_prefix: str, events_prefix: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in RUN_SETTINGS}
    env.update({"ERP_DATA_DIR": str(data_dir), "ERP_PORT_BASE": str(port_base)})
    if on == "postgres":
        env.update(
            {
                "ERP_POSTGRES_URL": PG_SERVER,
                "ERP_DB_PREFIX": db_prefix,
                "BROKER_URL": AMQP_URL,
                "ERP_EVENTS_PREFIX": events_prefix,
            }
        )
    log = open(data_dir / "run.log", "w")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/run.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def healthy(gateway_url: str) -> bool:
    try:
        return requests.get(f"{gateway_url}/health", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def seeding(root: int) -> bool:
    """True while the run's demo-order seeds still run (they are one-shot: measured without them)."""
    for pid in descendants(root):
        try:
            if "seed_demo" in command_line(pid):
                return True
        except OSError:
            continue
    return False


def load_phase(gateway_url: str, clients: int, seconds: float) -> str:
    """Create and confirm orders through the gateway for ``seconds``; wait until every one is issued."""
    tag = uuid.uuid4().hex[:8]
    token = Api(gateway_url).call("POST", "/api/auth/login", {"email": FM[0], "password": FM[1]})["access_token"]
    gateway = Api(gateway_url, token)
    stocked = 1_000_000
    customer, item = stock_one_item(gateway, tag, stocked)
    _, _, _, confirmed, errors, elapsed, _ = load(gateway, customer["id"], item["id"], clients, seconds)
    stock_path = f"/api/items/{item['id']}/stock"
    wait_for(lambda: gateway.call("GET", stock_path)["quantity"] == stocked - len(confirmed), 120, "every issue")
    orders = f"{len(confirmed)} orders created and confirmed in {elapsed:.0f} s"
    return f"{orders} by {clients} clients, {len(errors)} errors"


def measure(root: int) -> dict[str, list[int]]:
    """Return process kind -> [count, RSS KiB, PSS KiB] over every process of the run."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for pid in descendants(root):
        try:
            rss, pss, cmdline = memory_kib(pid)
        except OSError:
            continue
        group = groups[label(cmdline)]
        group[0] += 1
        group[1] += rss
        group[2] += pss
    return groups


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def fine_kind(pid: int) -> str:
    """The process's kind, a gunicorn worker told from its master (a container runs N workers beside one)."""
    kind = run_kind(pid)
    if kind.startswith("web"):
        role = "worker" if "gunicorn" in command_line(parent(pid)) else "master"
        return f"{kind} ({role})"
    return kind


def measure_fine(root: int) -> dict[str, dict[str, int]]:
    """Return fine kind -> count, RSS and PSS in total and of its largest process (KiB)."""
    kinds: dict[str, dict[str, int]] = {}
    for pid in descendants(root):
        try:
            rss, pss, _ = memory_kib(pid)
            kind = fine_kind(pid)
        except (OSError, IndexError, ValueError):
            continue
        row = kinds.setdefault(kind, {"count": 0, "rss_kib": 0, "pss_kib": 0, "rss_kib_max": 0, "pss_kib_max": 0})
        row["count"] += 1
        row["rss_kib"] += rss
        row["pss_kib"] += pss
        row["rss_kib_max"] = max(row["rss_kib_max"], rss)
        row["pss_kib_max"] = max(row["pss_kib_max"], pss)
    return dict(sorted(kinds.items()))


def report(title: str, groups: dict[str, list[int]]) -> None:
    print(f"\n{title}")
    print(f"{'processes':<28}{'count':>6}{'RSS MiB':>10}{'PSS MiB':>10}")
    for name, (count, rss, pss) in sorted(groups.items()):
        print(f"{name:<28}{count:>6}{rss / 1024:>10.1f}{pss / 1024:>10.1f}")
    total = [sum(g[i] for g in groups.values()) for i in range(3)]
    print(f"{'total':<28}{total[0]:>6}{total[1] / 1024:>10.1f}{total[2] / 1024:>10.1f}", flush=True)


def bench(on: str, args: argparse.Namespace) -> int:
    taken = taken_ports(args.port_base)
    if taken:
        # Another run's gateway there would answer the health check and take the load.
        print(f"ports taken: {taken}; choose another --port-base", file=sys.stderr)
        return 1
    tag = uuid.uuid4().hex[:8]
    db_prefix, events_prefix = f"{args.db_prefix}{tag}_", f"mem{tag}."
    data_dir = Path(tempfile.mkdtemp(prefix="erp-mem-"))
    gateway_url = f"http://127.0.0.1:{args.port_base}"
    process = start_run(on, data_dir, args.port_base, db_prefix, events_prefix)
    measured = False  # a failed run keeps its data dir: its run.log says why
    try:
        deadline = time.monotonic() + 900  # migrating and seeding included: minutes on a busy machine
        while not healthy(gateway_url):
            if time.monotonic() > deadline or process.poll() is not None:
                print(f"local run did not become healthy; see {data_dir / 'run.log'}", file=sys.stderr)
                return 1
            time.sleep(1)
        if process.poll() is not None:
            print(f"the local run stopped; see {data_dir / 'run.log'}", file=sys.stderr)
            return 1
        time.sleep(2)  # the seeds start once the gateway is healthy
        wait_for(lambda: not seeding(process.pid), 180, "the demo orders to be seeded")
        done = "no load"
        if args.load_seconds > 0:
            done = load_phase(gateway_url, args.clients, args.load_seconds)
        time.sleep(5)  # every queue drained, every worker back at rest
        groups = measure(process.pid)
        report(f"{on}, after the load ({done}):", groups)
        if args.json:
            kinds = measure_fine(process.pid)
            args.runs.append(
                {
                    "on": on,
                    "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "load": done,
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                    "worker_replicas": int(os.environ.get("ERP_WORKER_REPLICAS", "1")),
                    "total_pss_kib": sum(row["pss_kib"] for row in kinds.values()),
                    "total_processes": sum(row["count"] for row in kinds.values()),
                    "kinds": kinds,
                }
            )
        measured = True
        return 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if on == "postgres":
            cleanup(db_prefix, events_prefix)
        if measured:
            shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--on", choices=["postgres", "embedded", "both"], default="both")
    parser.add_argument("--load-seconds", type=float, default=15.0, help="0: measure at rest")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port-base", type=int, default=27700)
    parser.add_argument("--db-prefix", default="erp_mem_", help="the run's databases: <prefix><tag>_<service>")
    parser.add_argument("--worker-replicas", type=int, help="ERP_WORKER_REPLICAS of the run (relays, consumers)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/capacity.py)")
    args = parser.parse_args()
    args.runs = []  # with --json, one entry per --on kind measured
    if args.worker_replicas:
        os.environ["ERP_WORKER_REPLICAS"] = str(args.worker_replicas)
    kinds = ["postgres", "embedded"] if args.on == "both" else [args.on]
    status = max(bench(on, args) for on in kinds)
    if args.json:
        args.json.write_text(json.dumps({"bench": "bench/local_run_memory.py", "runs": args.runs}, indent=2) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
