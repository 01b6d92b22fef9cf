"""bench/capacity.py: docs/capacity.md holds what it computes, and its arithmetic on a small input is exact.

No platform runs here: the model reads JSON files and what ``kubectl kustomize deploy/k8s`` renders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import capacity  # noqa: E402  (bench/ is not a package)


def test_the_docs_tables_are_the_models_output_on_the_committed_results():
    # given the committed benchmark results and the manifests
    expected = capacity.tables_from(capacity.committed_arguments())

    # when docs/capacity.md is read
    written = capacity.doc_tables(capacity.DOC.read_text())

    # then it holds exactly that (regenerate with `make bench-capacity`)
    assert written == expected


def test_the_connection_formula_gives_the_guides_total_at_the_autoscalers_maximums():
    # given deploy/k8s/README.md §6, which sums its formula with every HPA at its maximum
    guide = (ROOT / "deploy" / "k8s" / "README.md").read_text()
    deployment = capacity.deployment_from_manifests(capacity.render_manifests(), capacity.Assumptions())
    at_maximum = {name: tier.max_replicas or tier.min_replicas for name, tier in deployment.tiers.items()}

    total = sum(capacity.connections_without_pooler(db, at_maximum, deployment) for db in deployment.databases)

    assert total == 277
    assert "277 connections" in " ".join(guide.split())
    assert deployment.databases == ("auth", "contact", "inventory", "purchase", "sales")


def documents() -> list[dict]:
    """A small deployment: sales (web with its HPA, 2 relays, 2 consumers, a worker, a beat) and the gateway."""

    def workload(name: str, role: str, request: str, limit: str, replicas: int | None = None) -> dict:
        spec = {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "resources": {
                                "requests": {"cpu": request, "memory": "100Mi"},
                                "limits": {"cpu": limit, "memory": "200Mi"},
                            }
                        }
                    ]
                }
            }
        }
        if replicas is not None:
            spec["replicas"] = replicas
        labels = {"app.kubernetes.io/component": role}
        return {"kind": "Deployment", "metadata": {"name": name, "labels": labels}, "spec": spec}

    def hpa(name: str, most: int) -> dict:
        metric = {"resource": {"target": {"averageUtilization": 70}}}
        spec = {"scaleTargetRef": {"name": name}, "minReplicas": 2, "maxReplicas": most, "metrics": [metric]}
        return {"kind": "HorizontalPodAutoscaler", "metadata": {"name": name}, "spec": spec}

    config = {"GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "4", "ERP_DB_POOL_MAX_SIZE": "4"}
    return [
        {"kind": "ConfigMap", "metadata": {"name": "erp-config"}, "data": config},
        workload("gateway", "web", "250m", "1"),
        hpa("gateway", 10),
        workload("sales", "web", "250m", "1"),
        hpa("sales", 6),
        workload("sales-relay", "relay", "50m", "500m", replicas=2),
        workload("sales-consumer", "consumer", "50m", "500m", replicas=2),
        workload("sales-worker", "worker", "50m", "500m", replicas=1),
        workload("sales-beat", "beat", "20m", "250m", replicas=1),
        {"kind": "Job", "metadata": {"name": "sales-migrate"}},
    ]


ORDERS = {
    "bench": "bench/orders.py",
    "measured_at": "2026-12-07T00:00:00Z",
    "orders": 300,
    "clients": 8,
    "orders_per_s_issued": 20.0,
    "load_average_before": [1.0],
    "load_average_after": [2.0],
    "cpu_count": 2,
    "cpu_ms_per_order": {
        "web gateway": 3.5,
        "web sales_svc": 20.0,
        "relay_outbox sales_svc": 1.0,
        "consume_events sales_svc": 5.0,
        "PostgreSQL (sales)": 7.0,
        "RabbitMQ (the machine's)": 2.1,
        "supervisor (honcho)": 2.0,
    },
    "database_per_order": {
        "sales": {"bytes_per_order": 5000.0, "outbox_rows_per_order": 1.0, "inbox_rows_per_order": 2.0}
    },
    "database_connections": {"sales": {"busy_connection_ms_per_order": 14.0}},
}


def memory_kinds() -> dict:
    def kib(mib: int) -> dict:
        return {"count": 1, "rss_kib": mib * 1024, "pss_kib": mib * 512, "rss_kib_max": mib * 1024, "pss_kib_max": 0}

    kinds = {"web gateway (master)": kib(20), "web gateway (worker)": kib(90), "web sales_svc (master)": kib(20)}
    kinds |= {
        "web sales_svc (worker)": kib(100),
        "relay_outbox sales_svc": kib(80),
        "consume_events sales_svc": kib(85),
    }
    kinds["jobs (celery worker + beat) sales_svc"] = kib(95)
    return {"bench": "bench/local_run_memory.py", "runs": [{"on": "postgres", "kinds": kinds}]}


def test_pods_connections_and_ceilings_of_a_small_input_are_exact():
    # given 20 ms of sales web CPU per order, a 0.25-CPU request at the HPA's 70%, 2 workers x pool 4
    assumptions = capacity.Assumptions()
    deployment = capacity.deployment_from_manifests(documents(), assumptions)
    costs = capacity.costs_from(ORDERS, memory_kinds(), deployment, "orders.json", "memory.json")

    # when the model runs at 100 orders/s
    pods = capacity.pods_at(100, deployment, costs)

    # then 2 cores of sales web need ceil(2 / 0.175) = 12 pods; 0.5 core of consumers ceil(0.5 / 0.35) = 2
    assert pods == {
        "gateway": 2,  # 0.35 core: ceil(2.0) = 2, its minimum
        "sales": 12,
        "sales-relay": 2,  # 0.1 core, the manifests' 2
        "sales-consumer": 2,
        "sales-worker": 1,
        "sales-beat": 1,
    }
    # 12 pods x 2 workers x 4 + 2 relays x 2 + 2 consumers + 1 worker + 2 (beat) = 105
    assert capacity.connections_without_pooler("sales", pods, deployment) == 105
    # pooled: 100 x 14 ms = 1.4 busy connections / 0.7 = 2, + 2 relays' LISTEN + the beat's 2 = 6
    assert capacity.connections_with_pooler("sales", 100, pods, costs, assumptions) == 6
    # a 2-core sales web tier at 1,000 orders/s: 20 cores, ceil(114.29) = 115 pods, 920 + 4 + consumers + 3
    assert capacity.pods_at(1000, deployment, costs)["sales"] == 115
    assert capacity.pods_at(1000, deployment, costs)["sales-consumer"] == 15  # 5 cores / 0.35
    assert costs.pod_memory_mib["sales"].value == 220  # master 20 + 2 workers x 100
    assert costs.left_out == {"supervisor (honcho)": 2.0}

    ceilings = {c.what: round(c.orders_per_s, 3) for c in capacity.ceilings(deployment, costs, assumptions)}
    assert ceilings["sales: HPA maxReplicas 6 x 0.25 CPU request x 70%"] == 52.5  # 6 x 0.175 / 0.020
    assert ceilings["sales-consumer: 2 replicas x 0.5 CPU limit x 70%"] == 140.0  # 2 x 0.35 / 0.005
    assert ceilings["PostgreSQL sales: one primary of 64 cores"] == 6400.0  # 64 x 0.7 / 0.007
    assert ceilings["RabbitMQ: sales's queue at 10,000 messages/s"] == 5000.0  # 2 messages applied per order
    # 500 connections: 60 web pods (480) + 4 (relays) + 8 consumers + 1 + 2 = 495 hold up to 60 x 0.175 / 0.02;
    # one pod more is 503
    assert ceilings["PostgreSQL sales: 500 connections without a pooler"] == 525.0


def test_the_tables_show_each_figure_with_its_source():
    tables = capacity.model(("orders.json", ORDERS), ("memory.json", memory_kinds()), documents())

    assert '| CPU of sales | 20.00 ms | orders.json `cpu_ms_per_order["web sales_svc"]` |' in tables
    assert "| sales | 12 ⚠ · 2.00 · 2.58 | 115 ⚠ · 20.0 · 24.7 | 1,143 ⚠ · 200 · 246 |" in tables
    # PostgreSQL at 100/s: 0.7 core / 0.7 = 1 core, 105 connections, 6 pooled, 5,000 B x 8.64 M = 40.2 GiB/day
    assert "| sales | 1.00 · 105 · 6 · 40.2 |" in tables
    assert "pending the hot-item benchmark's JSON" in tables


def test_the_hot_item_ceiling_is_the_best_median_of_one_item_whatever_the_consumers():
    medians = [
        {"mode": "hot", "consumers": 1, "issues_per_s": 180.0, "cpu_ms_per_issue": 4.0, "lock_waits": 0},
        {"mode": "spread", "consumers": 1, "issues_per_s": 200.0, "cpu_ms_per_issue": 3.9, "lock_waits": 0},
        {"mode": "hot", "consumers": 2, "issues_per_s": 210.0, "cpu_ms_per_issue": 4.5, "lock_waits": 90},
        {"mode": "hot", "consumers": 4, "issues_per_s": 150.0, "cpu_ms_per_issue": 6.0, "lock_waits": 400},
    ]
    hot_item = ("after.json", {"runs": [], "medians": medians})

    best = capacity.hot_item_ceiling(hot_item)

    assert best == capacity.Measured(210.0, "after.json `medians[2].issues_per_s`, 2 consumers")
    tables = capacity.model(("o.json", ORDERS), ("m.json", memory_kinds()), documents(), [hot_item])
    # a ceiling on one item's orders, not the platform's: 210 of 100, 1,000 and 10,000 orders/s
    assert "| 100% | 21% | 2% |" in tables
    assert "one item" not in tables.split("What saturates first")[1].split("The hot-item limit")[0]
    assert "| after.json | 2 | 210 · 4.50 · 90 | - |" in tables


@pytest.mark.parametrize(("limit", "expected"), [(100, 33), (3, 1), (2, 0)])
def test_the_highest_rate_under_a_limit_is_found_exactly(limit, expected):
    assert capacity.highest_rate(lambda rate: rate * 3 <= limit) == expected


def test_a_limit_never_reached_has_no_highest_rate():
    assert capacity.highest_rate(lambda rate: True) is None


def test_the_tables_replace_only_what_lies_between_the_markers():
    text = f"intro\n{capacity.BEGIN} (generated)\nold\n{capacity.END}\nafter\n"

    updated = capacity.with_tables(text, "new\n")

    assert updated == f"intro\n{capacity.BEGIN} (generated)\nnew\n{capacity.END}\nafter\n"
    assert capacity.doc_tables(updated) == "new\n"
