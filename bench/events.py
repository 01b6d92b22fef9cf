"""Benchmark the event backbone against the raw RabbitMQ floor.

Pipeline: ``publish_event`` in a committed transaction (this process) -> ``relay_outbox``
(a process) -> RabbitMQ -> ``consume_events`` (a process: inbox row + handler in one
transaction, ack after commit) -> the handler reports its commit by UDP. Latency is
measured one event at a time (commit to handler commit); throughput by 4 writer
threads publishing as fast as they can, first commit to last handled event.

Floor: bare kombu, measured the same way: a persistent message published with a
publisher confirm, consumed with a manual ack by another connection.

Variants, by how a commit wakes the relay (``ERP_EVENTS["WAKEUP"]``, the same setting in the
publisher and, through ``ERP_EVENTS_WAKEUP``, in the relay process):

- ``notify``: ``pg_notify`` in the publishing transaction, delivered by PostgreSQL on commit to
  the relay's LISTEN connection. Nothing travels on the publisher's loopback: the relay
  learns of the commit from the database server alone, as a relay on another host (its own
  Kubernetes pod) does. The default on PostgreSQL.
- ``udp``: a datagram to 127.0.0.1 after the commit, which only a relay on the same host hears
  (the default on SQLite).
- ``none``: the 1 s sweep alone (what a Celery beat schedule could do at best; see
  common/events/relay.py), what a cross-host relay had before LISTEN/NOTIFY.

Runs on a private topology (prefix ``erpbench.<random>.``, deleted afterwards) and its
own database ``<ERP_DB_PREFIX>bench_events`` on ERP_POSTGRES_URL (created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMON = ROOT / "common"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary(name: str, latencies: list[float], rate: float) -> dict:
    row = {
        "name": name,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.mean(latencies) * 1000, 2),
        "events_per_s": round(rate),
    }
    rate_text = f"{row['events_per_s']:>7} events/s" if rate else "  (latency only)"
    print(f"{name:<34} p50 {row['p50_ms']:>8.2f} ms  p99 {row['p99_ms']:>8.2f} ms  {rate_text}", flush=True)
    return row


# -- raw kombu floor --------------------------------------------------------


def raw_floor(url: str, latency_n: int, throughput_n: int) -> dict:
    from kombu import Connection, Exchange, Producer, Queue

    name = f"erpbench.{uuid.uuid4().hex[:8]}.raw"
    exchange = Exchange(name, type="topic", durable=True)
    queue = Queue(name, exchange, routing_key="bench.#", durable=True)
    received: dict[str, float] = {}
    done = threading.Event()
    expected = [0]
    stop = threading.Event()

    def consume():
        with Connection(url) as conn:

            def on_message(message):
                received[message.properties["message_id"]] = time.perf_counter()
                message.ack()
                if len(received) >= expected[0]:
                    done.set()

            with conn.Consumer([queue], on_message=on_message, prefetch_count=50):
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    with Connection(url, transport_options={"confirm_publish": True}) as conn:
        queue.bind(conn.default_channel).declare()
        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        time.sleep(0.5)
        producer = Producer(conn.default_channel)
        body = json.dumps({"data": "x" * 200}).encode()

        def send():
            message_id = uuid.uuid4().hex
            sent = time.perf_counter()
            producer.publish(body, exchange=exchange, routing_key="bench.x", delivery_mode=2,
                             message_id=message_id, content_type="application/json")  # fmt: skip
            return message_id, sent

        latencies = []
        for _ in range(latency_n):
            expected[0] = len(received) + 1
            done.clear()
            message_id, sent = send()
            done.wait(5)
            latencies.append(received[message_id] - sent)
        received.clear()
        expected[0] = throughput_n
        done.clear()
        started = time.perf_counter()
        for _ in range(throughput_n):
            send()
        done.wait(60)
        rate = len(received) / (max(received.values()) - started)
        stop.set()
        consumer.join(5)
        queue.bind(conn.default_channel).delete()
        exchange.bind(conn.default_channel).delete()
    return summary("raw kombu (confirm + manual ack)", latencies, rate)


# -- the pipeline -----------------------------------------------------------


def ensure_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


class Pipeline:
    def __init__(self, *, prefix: str, sweep: float, wakeup: str, env: dict[str, str]):
        from django.conf import settings

        self.prefix, self.sweep, self.env = prefix, sweep, env
        self.env["ERP_EVENTS_WAKEUP"] = wakeup
        settings.ERP_EVENTS = {"WAKEUP": wakeup}
        self.handled: dict[str, float] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.env["BENCH_EVENTS_PORT"] = str(self.sock.getsockname()[1])
        self.procs: list[subprocess.Popen] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        while True:
            data = self.sock.recv(64)
            now = time.perf_counter()
            with self.cond:
                self.handled[data.decode()] = now
                self.cond.notify_all()

    def start(self):
        python = [sys.executable, "-m", "django"]
        self.procs.append(
            subprocess.Popen([*python, "relay_outbox", "--sweep-interval", str(self.sweep)], cwd=COMMON, env=self.env)
        )
        self.procs.append(
            subprocess.Popen(
                [*python, "consume_events", "--consumer", "inventory", "--handlers", "events_handlers.HANDLERS"],
                cwd=COMMON,
                env=self.env,
            )
        )
        time.sleep(2.0)

    def stop(self):
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(15)

    def publish(self, seq: int) -> tuple[str, float]:
        from django.db import transaction

        from common.events import publish_event, registry

        order_id = uuid.uuid4()
        line = registry.OrderLine(
            item_id=uuid.uuid4(), quantity=seq + 1, unit_price=Decimal("10.00"), subtotal=Decimal("10.00") * (seq + 1)
        )
        data = registry.SalesOrderConfirmedData(
            order_id=order_id, customer_id=uuid.uuid4(), total_amount=line.subtotal, items=(line,)
        )
        with transaction.atomic():
            row = publish_event(registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=order_id, aggregate_version=1)
        return str(row.event_id), time.perf_counter()

    def wait_for(self, count: int, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: len(self.handled) >= count, timeout)

    def run(self, name: str, latency_n: int, throughput_n: int) -> dict:
        from django.db import connections

        latencies = []
        for seq in range(latency_n):
            event_id, committed = self.publish(seq)
            self.wait_for(seq + 1, 10)
            latencies.append(self.handled[event_id] - committed)
        self.handled.clear()
        if throughput_n == 0:
            return summary(name, latencies, 0)
        started = time.perf_counter()

        def writer(start):
            for seq in range(start, throughput_n, 4):
                self.publish(seq)
            connections.close_all()

        writers = [threading.Thread(target=writer, args=(start,)) for start in range(4)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        self.wait_for(throughput_n, 120)
        rate = len(self.handled) / (max(self.handled.values()) - started)
        return summary(name, latencies, rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-n", type=int, default=300)
    parser.add_argument("--throughput-n", type=int, default=3000)
    parser.add_argument("--skip-sweep-only", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    prefix = f"erpbench.{uuid.uuid4().hex[:8]}."
    database = ensure_database(
        os.environ.get("ERP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        f"{os.environ.get('ERP_DB_PREFIX', 'erp_')}bench_events",
    )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database,
        DJANGO_SETTINGS_MODULE="tests.project.settings",
        PYTHONPATH=os.pathsep.join([str(COMMON), str(ROOT / "bench")]),
        ERP_EVENTS_PREFIX=prefix,
        BROKER_URL=url,
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ERP_EVENTS_PREFIX")})
    sys.path[:0] = [str(COMMON), str(ROOT / "bench")]
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from kombu import Connection

    from common.events.models import InboxEvent, OutboxEvent
    from common.events.topology import Topology

    call_command("migrate", verbosity=0)
    settings.SERVICE_NAME = "sales"  # the benchmark publishes sales.order.confirmed
    OutboxEvent.objects.all().delete()
    InboxEvent.objects.all().delete()
    print(f"events bench: PostgreSQL {database.rsplit('/', 1)[-1]}, RabbitMQ {url.split('@')[-1]}", flush=True)
    results = [raw_floor(url, args.latency_n, args.throughput_n)]
    try:
        variants = [
            ("outbox, LISTEN/NOTIFY (any host)", "notify", args.latency_n, args.throughput_n),
            ("outbox, UDP nudge (same host)", "udp", args.latency_n, 0),
        ]
        if not args.skip_sweep_only:
            variants.append(("outbox, 1 s sweep only", "none", min(args.latency_n, 20), 0))
        for name, wakeup, latency_n, throughput_n in variants:
            pipeline = Pipeline(prefix=prefix, sweep=1.0, wakeup=wakeup, env=dict(env))
            pipeline.start()
            try:
                results.append(pipeline.run(name, latency_n, throughput_n))
            finally:
                pipeline.stop()
    finally:
        with Connection(url) as conn:
            Topology(prefix=prefix).delete(conn)
        OutboxEvent.objects.all().delete()
        InboxEvent.objects.all().delete()
    out = Path(os.environ.get("ERP_DATA_DIR", ROOT / ".run")) / "bench_events.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
