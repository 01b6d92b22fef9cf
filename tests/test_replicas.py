"""Four relays and four consumers per service under load, as the capacity model (docs/capacity.md) relies on.

The ``replicated`` flavour runs two of each per service (``ERP_WORKER_REPLICAS=2``), and its tests
(test_workflow.py, test_backorders.py, test_replenishment.py) prove every flow at two. Here two
more of each join that same platform, started as the local run starts its replicas (deploy/Procfile's
``relay`` and ``consumer`` through ``run.py manage``, each with a heartbeat file of its own), so that
four relays share each outbox (``SKIP LOCKED``) and four consumers compete on each service's queue.
Then the randomized backorder traffic (sales orders, purchase receipts, adjustments, cancels) and the
replenishment worked example run across all four, and end with ``check_backorders``,
``check_stock_ledger`` and ``check_replenishment`` at 0 differences. Starting two more replicas is
cheaper than a platform of four: one start fewer for the test command (tests/platforms.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from platforms import AMQP_URL, NOT_INHERITED, paused
from run import SERVICES, event_roles
from test_backorders import randomized_backorder_traffic
from test_local_run import eventually
from test_replenishment import replenishment_worked_example
from test_workflow import _clients

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 4
PROCFILE_COMMANDS = {"relay": "relay_outbox", "consumer": "consume_events"}
STARTED_WITHIN = 60  # seconds for a replica to write its first heartbeat


def replicated_roles() -> list[tuple[str, str]]:
    """(service, role) of every relay and consumer that the local run replicates."""
    return [(service.name, role) for service in SERVICES for role in event_roles(service)]


def consumers_on(queue: str) -> int:
    from kombu import Connection

    with Connection(AMQP_URL) as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True).consumer_count


@pytest.fixture(scope="module")
def four_replicas(replicated_platform):
    """The replicated platform with two more relays and consumers per service; yields it and the extra processes."""
    data_dir = Path(replicated_platform["env"]["ERP_DATA_DIR"])
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | replicated_platform["env"]
    env["ERP_PORT_BASE"] = str(replicated_platform["base"])
    extra: dict[tuple[str, str, int], tuple[subprocess.Popen, Path]] = {}
    try:
        for service, role in replicated_roles():
            for index in range(3, REPLICAS + 1):  # the platform runs 1 and 2
                heartbeat = data_dir / "workers" / f"{service}-{role}-{index}.alive"
                log = open(data_dir / f"{service}-{role}-{index}.log", "w")
                process = subprocess.Popen(
                    [sys.executable, str(ROOT / "scripts" / "run.py"), "manage", service, PROCFILE_COMMANDS[role]],
                    cwd=ROOT,
                    env={**env, "ERP_WORKER_HEARTBEAT_FILE": str(heartbeat)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopped as a group, with anything it starts
                )
                log.close()
                extra[(service, role, index)] = (process, heartbeat)
        deadline = time.monotonic() + STARTED_WITHIN
        while not all(heartbeat.exists() for _, heartbeat in extra.values()) and time.monotonic() < deadline:
            assert all(process.poll() is None for process, _ in extra.values()), _exits(extra, data_dir)
            time.sleep(0.5)
        missing = [key for key, (_, heartbeat) in extra.items() if not heartbeat.exists()]
        assert missing == [], f"no heartbeat within {STARTED_WITHIN} s: {missing}\n{_exits(extra, data_dir)}"
        yield replicated_platform, extra
    finally:
        for process, _ in extra.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in extra.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _exits(extra: dict, data_dir: Path) -> str:
    """What the replicas that stopped said last."""
    lines = []
    for (service, role, index), (process, _) in extra.items():
        if process.poll() is not None:
            said = (data_dir / f"{service}-{role}-{index}.log").read_text()[-2000:]
            lines.append(f"{service}-{role}-{index} exited {process.returncode}:\n{said}")
    return "\n".join(lines)


def test_every_flow_ends_exact_with_four_relays_and_four_consumers_per_service(four_replicas, tmp_path):
    platform, extra = four_replicas
    prefix = platform["events_prefix"]

    # given: four consumers on each service's queue (the platform's two and two more; a heartbeat may come
    # before a consumer's first connection to the broker succeeds)
    for service in {service for service, role, _ in extra if role == "consumer"}:
        queue = f"{prefix}{service}.events"
        eventually(lambda queue=queue: consumers_on(queue), REPLICAS.__eq__, f"{service}'s consumers")

    # when: the randomized backorder traffic and the replenishment example run across them
    randomized_backorder_traffic(platform, tmp_path)  # ends with check_backorders and check_stock_ledger
    replenishment_worked_example(platform)  # ends with check_replenishment
    # and a receipt and a sale run while the platform's own relays are paused, so that only the added ones can
    # publish (which relay wins a commit's rows is up to the scheduler: a few events may all go to the first two)
    data_dir = Path(platform["env"]["ERP_DATA_DIR"])
    with paused(_platform_relays(data_dir)):
        _receive_and_sell(platform)

    # then: every added relay and consumer is still running and stops cleanly when asked
    assert _exits(extra, data_dir) == ""
    for process, _ in extra.values():
        os.killpg(process.pid, signal.SIGTERM)
    for key, (process, _) in extra.items():
        assert process.wait(timeout=30) == 0, key
    # and the added relays published the outboxes the paused ones could not
    for service in ("inventory", "sales", "purchase"):
        published = sum(_published(data_dir / f"{service}-relay-{index}.log") for index in range(3, REPLICAS + 1))
        assert published > 0, f"{service}'s added relays published nothing"


def _receive_and_sell(platform: dict) -> None:
    """A receipt of 5 and a sale of 1 of a new item, through every service's outbox; waits until both are applied."""
    _, im, _, call = _clients(platform)
    tag = uuid.uuid4().hex[:8]
    item = call("POST", "/items", {"sku": f"rp-{tag}", "name": "Relayed", "unit_price": 3}, im, 201)["id"]
    vendor = call("POST", "/vendors", {"name": f"Vendor {tag}", "email": f"rp-{tag}@example.com"}, im, 201)["id"]
    purchase = call(
        "POST", "/purchase/orders", {"vendor_id": vendor, "items": [{"item_id": item, "quantity": 5}]}, im, 201
    )
    call("POST", f"/purchase/orders/{purchase['id']}/receive", None, im)
    eventually(lambda: call("GET", f"/items/{item}/stock")["quantity"], (5).__eq__, "the receipt's stock")
    customer = call("POST", "/customers", {"name": f"Buyer {tag}", "email": f"rp-{tag}@example.com"}, im, 201)["id"]
    order = call(
        "POST", "/sales/orders", {"customer_id": customer, "items": [{"item_id": item, "quantity": 1}]}, im, 201
    )
    call("POST", f"/sales/orders/{order['id']}/confirm")
    eventually(lambda: call("GET", f"/sales/orders/{order['id']}")["stock_status"], "issued".__eq__, "the sale's issue")


def _platform_relays(data_dir: Path) -> list[int]:
    """The pids of the platform's own relays (replicas 1 and 2), found by the heartbeat file run.py gave them."""
    own = {
        str(data_dir / "workers" / f"{service}-relay-{index}.alive")
        for service, role in replicated_roles()
        if role == "relay"
        for index in (1, 2)
    }
    found: dict[int, str] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours
            continue
        for entry in environ:
            name, _, value = entry.decode(errors="replace").partition("=")
            if name == "ERP_WORKER_HEARTBEAT_FILE" and value in own:
                found[int(proc.name)] = value
    assert set(found.values()) == own, f"found {found} for {sorted(own)}"
    return list(found)


def _published(log: Path) -> int:
    """What a relay says it published when it stopped (its last "outbox relay stopped" line)."""
    stops = [json.loads(line) for line in log.read_text().splitlines() if '"outbox relay stopped"' in line]
    assert stops, f"{log.name}: no stop line"
    return stops[-1]["published"]
