"""Benchmark the hot-item limit: issue events for ONE item against the same number spread over many items.

Every issue of an item locks that item's stock row until its transaction commits, so
issues of one popular item are handled one after the other whatever the number of
consumers: this bench measures that limit, on the consuming path inventory_svc runs in
production (RabbitMQ -> ``manage.py consume_events`` -> inbox row + ``stock_issue_for_order``).

Each run, on PostgreSQL and RabbitMQ (the pieces of ``bench/inventory_events.py``):
``--events`` confirmed orders of one line (1-3 units) are queued while no consumer runs,
either all for one item (``hot``) or each for one of ``--spread-items`` items at random
(``spread``); then 1, 2 or 4 competing ``consume_events`` processes drain the queue.
Runs alternate (mode within consumer count within round) so that a change of the
machine's load falls on every kind alike. Reported per run:

- ``issues_per_s``: events handled between the first and the last inbox commit (process
  start-up not counted);
- ``cpu_ms_per_issue``: user + system CPU of the consumer processes from the first inbox
  commit on (their start-up is given apart) plus that of their PostgreSQL backends, per
  event; both parts are given apart too. The CPU of each is read from ``/proc/<pid>/stat``
  every 0.2 s (the last reading before it exits counts; the WAL writer and other shared
  PostgreSQL processes are not counted);
- ``lock_waits`` / ``lock_wait_s``: waits of the consumers' backends on a row lock
  (``pg_stat_activity``: ``wait_event_type = 'Lock'`` and ``wait_event`` ``transactionid``
  or ``tuple``: a stock row locked by another consumer's transaction, or an inbox or
  decision row it is inserting; not a relation's extension lock), sampled every
  ``--sample-ms`` ms from a connection of the bench's own. A wait is a run of consecutive
  samples that see the backend waiting; its time is from the first such sample to the
  first that does not (so a wait shorter than the interval may be missed, and times are
  ± one interval each).

After each run the ledger is checked as in ``bench/inventory_events.py`` (every event
handled, stock = sum of movements, each line issued once, nothing dead-lettered).
``--json FILE`` writes ``{"runs": [...], "settings": ..., "machine": ...}`` for
``bench/capacity.py``. ``--batch-size`` sets ``ERP_EVENTS_BATCH_SIZE`` for the consumers
(unset: the service's setting).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inventory_events import (  # bench/ is not a package: found through sys.path above
    bench_environment,
    consume_queued,
    handled_and_seconds,
    ledger_exact,
    publish_orders,
    reset_and_make_items,
    topology_delete,
)

CONSUMER_COUNTS = (1, 2, 4)
MODES = ("hot", "spread")
SUMMARISED = (
    "issues_per_s",
    "cpu_ms_per_issue",
    "consumer_cpu_ms_per_issue",
    "postgres_cpu_ms_per_issue",
    "lock_waits",
    "lock_wait_s",
)
BACKEND_CPU_INTERVAL = 0.2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def one_item(rng: random.Random, items: list) -> list:
    return [rng.choice(items)]


class PostgresSampler(threading.Thread):
    """Sample lock waits and backend CPU of one database's other backends, on a connection of its own."""

    def __init__(self, *, dsn: str, database: str, inbox_table: str, exclude: set[int], interval: float):
        super().__init__(daemon=True)
        self.dsn, self.database, self.exclude, self.interval = dsn, database, set(exclude), interval
        self.inbox_table = inbox_table
        self.stopping = threading.Event()
        self.lock_waits = 0
        self.lock_wait_s = 0.0
        self.backend_ticks: dict[int, int] = {}
        self.consumer_pids: list[int] = []  # set by the run once the consumers are started
        self.consumer_ticks_at_start: dict[int, int] | None = None  # when the first event was handled
        self.consumer_ticks: dict[int, int] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                self.exclude.add(conn.info.backend_pid)
                self._sample(conn)
        except BaseException as exc:  # reported by the run, which then fails
            self.error = exc

    def _sample(self, conn) -> None:
        waiting: dict[int, float] = {}  # pid -> when its current wait was first seen
        cpu_read_at = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            rows = conn.execute(
                "SELECT pid, wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple') "
                "FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
                [self.database],
            ).fetchall()
            pids = {pid for pid, _ in rows if pid not in self.exclude}
            locked = {pid for pid, is_lock in rows if is_lock and pid in pids}
            for pid in locked - waiting.keys():
                waiting[pid] = now
                self.lock_waits += 1
            for pid in waiting.keys() - locked:
                self.lock_wait_s += now - waiting.pop(pid)
            if now - cpu_read_at >= BACKEND_CPU_INTERVAL:
                cpu_read_at = now
                self._read_cpu(conn, pids)
            time.sleep(self.interval)
        now = time.monotonic()
        self.lock_wait_s += sum(now - since for since in waiting.values())

    def _read_cpu(self, conn, backend_pids: set[int]) -> None:
        for pid in backend_pids:
            ticks = _process_ticks(pid)
            if ticks is not None:
                self.backend_ticks[pid] = ticks
        for pid in self.consumer_pids:
            ticks = _process_ticks(pid)
            if ticks is not None:
                self.consumer_ticks[pid] = ticks
        if self.consumer_ticks_at_start is None and self.consumer_pids:
            first = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {self.inbox_table})").fetchone()[0]  # noqa: S608
            if first:
                self.consumer_ticks_at_start = dict(self.consumer_ticks)

    @property
    def backend_cpu_s(self) -> float:
        return sum(self.backend_ticks.values()) / CLOCK_TICKS

    @property
    def consumer_handling_cpu_s(self) -> float:
        """The consumers' CPU from the first handled event to their last reading."""
        start = self.consumer_ticks_at_start or {}
        return sum(ticks - start.get(pid, 0) for pid, ticks in self.consumer_ticks.items()) / CLOCK_TICKS


def _process_ticks(pid: int) -> int | None:
    """User + system clock ticks of a process, or None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def run(*, mode: str, consumers: int, events: int, spread_items: int, env: dict, url: str, topology,
        seed: int, sample_ms: float) -> dict:  # fmt: skip
    from django.db import connection

    from common.events.models import InboxEvent

    items = reset_and_make_items(1 if mode == "hot" else spread_items)
    asked, lines_total = publish_orders(url, topology, items, events, random.Random(seed), pick=one_item)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    database = connection.settings_dict["NAME"]
    sampler = PostgresSampler(
        dsn=env["DATABASE_URL"],
        database=database,
        inbox_table=connection.ops.quote_name(InboxEvent._meta.db_table),
        exclude={own_pid},
        interval=sample_ms / 1000,
    )
    sampler.start()
    try:
        consumer_cpu_s = consume_queued(
            consumers=consumers, events=events, env=env, started=sampler.consumer_pids.extend
        )
    finally:
        sampler.stopping.set()
        sampler.join(10)
    if sampler.error is not None:
        raise RuntimeError(f"the PostgreSQL sampler failed: {sampler.error!r}")
    handled, seconds = handled_and_seconds()
    exact = ledger_exact(items=items, asked=asked, lines_total=lines_total, events=events, url=url, topology=topology)
    per_issue = 1000 / max(handled, 1)
    handling_cpu_s = sampler.consumer_handling_cpu_s
    row = {
        "mode": mode,
        "items": len(items),
        "consumers": consumers,
        "events": events,
        "handled": handled,
        "seconds": round(seconds, 3),
        "issues_per_s": round((handled - 1) / seconds, 1) if seconds else 0,
        "cpu_ms_per_issue": round((handling_cpu_s + sampler.backend_cpu_s) * per_issue, 2),
        "consumer_cpu_ms_per_issue": round(handling_cpu_s * per_issue, 2),
        "consumer_startup_cpu_s": round((consumer_cpu_s - handling_cpu_s) / consumers, 2),
        "postgres_cpu_ms_per_issue": round(sampler.backend_cpu_s * per_issue, 2),
        "lock_waits": sampler.lock_waits,
        "lock_wait_s": round(sampler.lock_wait_s, 3),
        "ledger_exact": exact,
        "load_average": round(os.getloadavg()[0], 1),  # 1-minute, at the run's end
    }
    print(
        f"{mode:6} {row['items']:4} item(s), {consumers} consumer(s): {row['issues_per_s']:7.1f} issues/s, "
        f"CPU {row['cpu_ms_per_issue']} ms/issue (consumers {row['consumer_cpu_ms_per_issue']}, PostgreSQL "
        f"{row['postgres_cpu_ms_per_issue']}), {row['lock_waits']} lock waits ({row['lock_wait_s']} s); "
        f"ledger exact: {exact}",
        flush=True,
    )
    return row


def medians(runs: list[dict]) -> list[dict]:
    """One row per (mode, consumers): the medians of its runs."""
    table = []
    for consumers in CONSUMER_COUNTS:
        for mode in MODES:
            group = [row for row in runs if row["mode"] == mode and row["consumers"] == consumers]
            if not group:
                continue
            table.append(
                {
                    "mode": mode,
                    "items": group[0]["items"],
                    "consumers": consumers,
                    "runs": len(group),
                    **{key: round(statistics.median(row[key] for row in group), 2) for key in SUMMARISED},
                }
            )
    return table


def comparison_table(before_path: Path, after_path: Path) -> str:
    """The medians of two ``--json`` outputs side by side, as docs/performance.md shows them."""
    before, after = (
        {(row["mode"], row["consumers"]): row for row in json.loads(path.read_text())["medians"]}
        for path in (before_path, after_path)
    )
    lines = [
        "| mode | consumers | issues/s before → after | CPU ms/issue before → after (consumers + PostgreSQL) "
        "| row-lock waits before → after (s waited) |",
        "|---|---|---|---|---|",
    ]
    for key in sorted(before.keys() & after.keys(), key=lambda key: (key[0] != "hot", key[1])):
        old, new = before[key], after[key]
        lines.append(
            f"| {key[0]} ({old['items']} item{'s' if old['items'] > 1 else ''}) | {key[1]} "
            f"| {old['issues_per_s']:.0f} → **{new['issues_per_s']:.0f}** "
            f"| {old['cpu_ms_per_issue']:.2f} → **{new['cpu_ms_per_issue']:.2f}** "
            f"({new['consumer_cpu_ms_per_issue']:.2f} + {new['postgres_cpu_ms_per_issue']:.2f}) "
            f"| {old['lock_waits']:.0f} ({old['lock_wait_s']:.1f} s) "
            f"→ {new['lock_waits']:.0f} ({new['lock_wait_s']:.1f} s) |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="issue events per run")
    parser.add_argument("--spread-items", type=int, default=200, help="items of a spread run")
    parser.add_argument("--consumers", type=int, nargs="+", default=list(CONSUMER_COUNTS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of the whole table (alternated)")
    parser.add_argument("--sample-ms", type=float, default=5.0, help="lock-wait sampling interval")
    parser.add_argument("--batch-size", type=int, help="ERP_EVENTS_BATCH_SIZE of the consumers")
    parser.add_argument("--json", type=Path, help="write the runs and their medians here")
    parser.add_argument(
        "--append", action="store_true", help="add to the runs already in --json (rounds alternated with another build)"
    )
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="print two --json outputs' table; no run"
    )
    args = parser.parse_args()
    if args.compare:
        print(comparison_table(*args.compare))
        return 0

    url, env, topology = bench_environment()
    if args.batch_size is not None:
        env["ERP_EVENTS_BATCH_SIZE"] = str(args.batch_size)
    load_before = os.getloadavg()
    print(
        f"hot-item bench: {args.events} one-line issue events per run, hot (1 item) vs spread "
        f"({args.spread_items} items), consumers {args.consumers}, {args.rounds} round(s); "
        f"batch size {env.get('ERP_EVENTS_BATCH_SIZE', 'the service setting')}; load average "
        f"{load_before[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    runs = []
    try:
        for round_index in range(args.rounds):
            for consumers in args.consumers:
                for mode in args.modes:
                    row = run(
                        mode=mode,
                        consumers=consumers,
                        events=args.events,
                        spread_items=args.spread_items,
                        env=env,
                        url=url,
                        topology=topology,
                        seed=round_index,
                        sample_ms=args.sample_ms,
                    )
                    runs.append(row)
    finally:
        topology_delete(url, topology)
    load_after = os.getloadavg()
    earlier = json.loads(args.json.read_text()) if args.append and args.json and args.json.exists() else None
    if earlier is not None:
        runs = [*earlier["runs"], *runs]
    table = medians(runs)
    print("medians:")
    for row in table:
        print(
            f"  {row['mode']:6} x {row['consumers']} consumer(s): {row['issues_per_s']} issues/s, "
            f"{row['cpu_ms_per_issue']} ms CPU/issue, {row['lock_waits']} lock waits ({row['lock_wait_s']} s)"
        )
    print(f"load average at the end: {load_after[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "bench/hot_item.py",
                    "command": " ".join(["bench/hot_item.py", *sys.argv[1:]]),
                    "settings": {
                        "events": args.events,
                        "spread_items": args.spread_items,
                        "rounds": len(runs) // max(1, len(args.consumers) * len(args.modes)),
                        "sample_ms": args.sample_ms,
                        "batch_size": env.get("ERP_EVENTS_BATCH_SIZE"),
                    },
                    "machine": {
                        "cpus": os.cpu_count(),
                        "load_average_min": min(row["load_average"] for row in runs),
                        "load_average_max": max(row["load_average"] for row in runs),
                        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    "runs": runs,
                    "medians": table,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"results written to {args.json}")
    return 0 if all(row["ledger_exact"] for row in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
