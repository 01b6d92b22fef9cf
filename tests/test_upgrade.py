"""An install of the previous release, populated and with events in flight, upgrades to this checkout.

deploy/PREVIOUS_RELEASE names the release (scripts/previous_release.py materialises it from git).
Its local run starts on PostgreSQL and RabbitMQ (databases, queues and a data dir of its own), is
filled through the API with records in every state, and stops while events are still unconsumed in
the queues and unsent in the outboxes (tests/upgrade_fill.py freezes its workers group by group).
Then this checkout's local run starts on the same databases, broker and data dir, as an operator's
upgrade does: it migrates and starts every process. That is how the session's ``postgres`` platform
starts (tests/platforms.py ``upgraded``), and this test is the first on it, before any other test's
traffic. The upgrade passes when every event in flight is applied exactly once, every record reads
back as before (new fields at their documented values), every check command finds nothing, and the
previous release's tokens are still good or cleanly refused, its queues were migrated to this
release's shape and Celery beat's tables hold the schedules. Every event the previous release had
sent is published again after the upgrade (its relays "died" before recording the sends), so each
consumer meets duplicates of what it applied and of what it holds queued. The in-flight events cover
every (type, version) the previous release's consumers subscribe to: each previous-version event
goes through this release's consumers.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from platforms import AMQP_URL
from upgrade_fill import CONSUMERS, PRODUCERS, Api, Outboxes, PreviousRelease, queue_depths, wait_for

ROOT = Path(__file__).resolve().parent.parent
JOBS = ("auth", "contact", "inventory", "sales", "purchase")  # services with Celery beat (this release's)
RETENTION = {"retention: idempotency keys", "retention: expired sessions"}  # every one of JOBS has these

# Fields the events in flight change once applied: compared with the values the test expects instead.
EVENT_DRIVEN = {
    "items": {"quantity", "updated_at"},
    "sales/orders": {"stock_status", "customer_name", "updated_at"},
    "purchase/orders": {"vendor_name", "updated_at"},
}

# Back-office pages of the tables this release changed, opened with a session of the previous release.
ADMIN_PAGES = (
    "/admin/inventory/inventory/stockmovement/",
    "/admin/purchase/purchasing/purchaseorder/",
    "/admin/sales/sales/salesorder/",
)
# Every check command of this release, with its arguments: each must find 0 differences. A new
# check_* command fails test_every_check_command_runs_after_the_upgrade until it is named here.
# check_receipt_ledger compares inventory's ledger with what purchase's --export wrote.
# check_backorders (inventory) likewise compares its backorders with what sales' --export wrote.
RECEIPTS_FILE = "{data_dir}/receipts.json"
BACKORDERS_FILE = "{data_dir}/backorders.json"
CHECK_COMMANDS = (  # stages, in order; a stage's commands at once
    (
        ("inventory", ("check_stock_ledger",)),
        ("purchase", ("check_purchase_receipts", "--export", RECEIPTS_FILE)),
        ("purchase", ("check_replenishment",)),
        ("sales", ("check_backorders", "--export", BACKORDERS_FILE)),
    ),
    (("inventory", ("check_receipt_ledger", RECEIPTS_FILE)), ("inventory", ("check_backorders", BACKORDERS_FILE))),
)


def test_every_check_command_runs_after_the_upgrade():
    # given every check command of the services (a new stock flow brings its own)
    found = {
        (path.parts[-5].removesuffix("_svc"), path.stem) for path in ROOT.glob("*_svc/*/management/commands/check_*.py")
    }
    # when compared with what the upgrade test runs / then each is run there
    assert found == {(service, args[0]) for stage in CHECK_COMMANDS for service, args in stage}


def new_fields(resource: str, before: dict) -> dict:
    """The fields this release added to a record the previous one made, at their documented values.

    Purchase orders (contract §5): ``received_amount`` is what the order received (its total once
    received whole, the migration's backfill; 0.00 before), ``closed_short`` false, and each line's
    ``quantity_received`` its quantity once received whole (else 0, ``new_line_fields``). Ledger
    rows: ``receipt_id``. Sales orders (§5): ``allow_backorder`` false, and each line's
    ``quantity_issued`` its quantity once the order was issued (also when given back since),
    ``quantity_backordered`` 0; items ``backordered`` 0; items and contacts ``active``. A release
    that adds a field to a resource adds it here.
    """
    if resource == "purchase/orders":
        whole = before["status"] in ("Received", "Paid")
        return {
            "received_amount": before["total_amount"] if whole else 0,
            "closed_short": False,
            "stock_refused_at": None,
            "origin": "manual",
        }
    if resource == "sales/orders":
        return {"allow_backorder": False}
    if resource == "items":
        return {"active": True, "backordered": 0, "max_level": 0}
    if resource in ("customers", "vendors"):
        return {"active": True}
    if resource == "movements":
        # A purchase receipt moved before receipts existed was the whole order's: its receipt id is the order's.
        return {"receipt_id": before["reference"] if before["reason"] == "purchase_receipt" else None}
    return {}


def new_line_fields(resource: str, order: dict, line: dict, now: dict) -> dict:
    """A line's new fields; ``now`` is the order after the upgrade (its events in flight applied)."""
    if resource == "purchase/orders":
        return {"quantity_received": line["quantity"] if order["status"] in ("Received", "Paid") else 0}
    if resource == "sales/orders":
        issued = now["stock_status"] in ("issued", "returned")
        return {"quantity_issued": line["quantity"] if issued else 0, "quantity_backordered": 0}
    return {}


def queue_shapes(broker: str, prefix: str) -> dict[str, str]:
    """Each consumer's queues as this release declares them: "current", or why the broker refuses that shape.

    RabbitMQ refuses a declaration whose arguments differ from the queue's (queue arguments never
    change in place), so a declaration that succeeds proves the previous release's service queue
    was migrated to the delivery limit and dead-lettering; the holding queue of that migration
    must be gone.
    """
    from kombu import Connection

    from common.events.conf import DEFAULTS
    from common.events.topology import Topology

    topology = Topology(prefix=prefix, retry_delays=DEFAULTS["RETRY_DELAYS"])
    topology.delivery_limit = DEFAULTS["DELIVERY_LIMIT"]  # the local run's (no Django settings here)
    shapes = {}
    with Connection(broker) as conn:
        for consumer in CONSUMERS:
            for queue in topology.queues(consumer):
                shapes[queue.name] = _declared_shape(conn, queue.name, queue.queue_arguments)
            if _declared_shape(conn, topology.upgrade_name(consumer), None) != "missing":
                shapes[topology.upgrade_name(consumer)] = "left behind"
    return shapes


def _declared_shape(conn, name: str, arguments: dict | None) -> str:
    """Declare ``name`` with ``arguments`` (None: passively): "current", "missing" or the broker's refusal."""
    from amqp.exceptions import NotFound, PreconditionFailed

    channel = conn.channel()
    try:
        channel.queue_declare(name, passive=True)
        if arguments is not None:
            channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments)
        return "current"
    except NotFound:
        return "missing"
    except PreconditionFailed as refusal:
        return str(refusal)
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def beat_schedules(outboxes: Outboxes, services: tuple[str, ...]) -> dict[str, set[str]]:
    """The schedules in each service's django-celery-beat tables (made by this release's migrate, filled by beat)."""
    return {
        s: {name for (name,) in outboxes.query(s, "SELECT name FROM django_celery_beat_periodictask")} for s in services
    }


def run_check(platform: dict, service: str, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_DEBUG")}
    env |= {**platform["env"], "ERP_PORT_BASE": str(platform["base"])}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run.py"), "manage", service, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_checks(platform: dict, data_dir: Path) -> list[subprocess.CompletedProcess]:
    """Run CHECK_COMMANDS, stage after stage."""
    results = []
    with ThreadPoolExecutor() as pool:
        for stage in CHECK_COMMANDS:
            args = [(service, tuple(a.format(data_dir=data_dir) for a in command)) for service, command in stage]
            results += pool.map(lambda item: run_check(platform, *item), args)
    return results


@pytest.mark.first_on_platform
def test_the_previous_release_upgrades_with_its_data_and_events_in_flight(postgres_platform):
    # given: the previous release, filled through its API with records in every state, stopped with events in
    # flight (tests/upgrade_fill.py) and upgraded to this release: the postgres flavour (tests/platforms.py)
    new = postgres_platform
    previous: PreviousRelease = new["previous_release"]
    fill, outboxes, in_flight, marks = previous.fill, previous.outboxes, previous.in_flight, previous.marks
    tag, unsent, queued, resent = previous.tag, previous.unsent, previous.queued, previous.resent
    broker, prefix, data_dir = AMQP_URL, new["events_prefix"], Path(new["env"]["ERP_DATA_DIR"])

    # then (before the upgrade): events of every kind the previous consumers take are in flight, both ways
    kinds = {(event.event_type, event.version) for event in in_flight}
    assert kinds == {tuple(t) for types in previous.subscriptions.values() for t in types}
    assert all(unsent.values()), unsent
    assert sum(queued[f"{prefix}{c}.events"] for c in CONSUMERS) > 0, queued

    # when: this release, started on the same databases, broker and data dir, applies them
    api = Api(new["gateway"])
    wait_for(
        lambda: all(
            outboxes.applied(c, [e.event_id for e in in_flight if e.consumer == c]).keys()
            == {e.event_id for e in in_flight if e.consumer == c}
            for c in CONSUMERS
        ),
        "this release's consumers to apply every event in flight",
    )
    outboxes.wait_until_sent(PRODUCERS)
    wait_for(fill.settled, "the stock and orders the events in flight move")
    marks("events in flight applied")
    after = api.snapshot()
    checks = run_checks(new, data_dir)
    marks("records read back, checks run")
    me = api.client.get("auth/me", headers={"Authorization": f"Bearer {previous.session['access_token']}"})
    refreshed = api.client.post("auth/refresh", json={"refresh_token": previous.session["refresh_token"]})
    admin_pages = {path: previous.back_office.visit(path) for path in ADMIN_PAGES}
    depths = queue_depths(broker, prefix)
    # Read again once the queues are empty (the duplicates were sent long before): a duplicate
    # applied twice shows here, later than the first read.
    settled_at_end = fill.settled()
    shapes = queue_shapes(broker, prefix)
    wait_for(
        lambda: all(RETENTION <= names for names in beat_schedules(outboxes, JOBS).values()),
        "every service's beat to install its default schedules",
    )
    schedules = beat_schedules(outboxes, JOBS)
    applied = {c: outboxes.applied(c, [e.event_id for e in in_flight if e.consumer == c]) for c in CONSUMERS}

    # then: each event in flight was applied, and nothing was dead-lettered (the inbox's unique rule records an
    # event once per consumer at most: the stock figures below are what proves none was applied twice)
    assert {c: set(counts.values()) for c, counts in applied.items() if counts} == {c: {1} for c in CONSUMERS}
    assert sum(len(counts) for counts in applied.values()) == len(in_flight)
    assert depths == dict.fromkeys(depths, 0)
    # and: the previous release's queues now have this release's shape (delivery limit, dead-lettering), none left over
    assert shapes == dict.fromkeys(shapes, "current") and len(shapes) == len(CONSUMERS) * 5, shapes
    # and: Celery beat's tables were migrated in and hold every service's default retention schedules
    assert {s: RETENTION <= names for s, names in schedules.items()} == dict.fromkeys(JOBS, True), schedules
    # and: the stock and the orders' copies moved exactly as the events say (each event sent before the upgrade
    # was published again: a duplicate for its consumers)
    assert {i: after["items"][i]["quantity"] for i in fill.stock} == fill.stock
    assert settled_at_end
    assert {o: after["sales/orders"][o]["stock_status"] for o in fill.stock_status} == fill.stock_status
    assert after["sales/orders"][previous.paid_sale]["customer_name"] == f"Ada Renamed {tag}"
    assert after["purchase/orders"][previous.paid_purchase]["vendor_name"] == f"Vale Renamed {tag}"
    assert after["purchase/orders"][previous.short_of_cable]["status"] == "Paid"
    # and: every record reads back as before, the new fields at their documented values
    assert_read_back(previous.before, after)
    # and: every check command finds nothing
    assert [(c.returncode, c.stdout + c.stderr) for c in checks if c.returncode] == []
    # and: the previous release's tokens still work, or are refused cleanly
    assert me.status_code in (200, 401), me.text
    assert refreshed.status_code in (200, 401), refreshed.text
    # and: the admin's back-office session still opens the changed tables' pages, or asks to sign in again
    assert {
        path: max(statuses) < 500 and outcome in ("signed in", "sign in again")
        for path, (statuses, outcome) in admin_pages.items()
    } == dict.fromkeys(ADMIN_PAGES, True), admin_pages

    print(
        f"\nthe previous release's sessions after the upgrade: /me {me.status_code}, refresh {refreshed.status_code}, "
        f"back office {admin_pages}"
    )
    records = sum(len(records) for name, records in previous.before.items() if name != "movements")
    movements = sum(len(ledger) for ledger in previous.before["movements"].values())
    print(
        f"\nupgrade: {records} records and {movements} ledger rows carried over; {len(in_flight)} events in flight "
        f"(event x consumer; {sum(unsent.values())} outbox rows unsent, {sum(queued.values())} queued); "
        f"{sum(resent.values())} sent events published again\n{marks}"
    )


def assert_read_back(before: dict, after: dict) -> None:
    for resource, records in before.items():
        if resource == "movements":
            for item, ledger in records.items():
                now = {m: after["movements"][item].get(m) for m in ledger}
                assert now == {m: {**row, **new_fields(resource, row)} for m, row in ledger.items()}, item
            continue
        ignored = EVENT_DRIVEN.get(resource, set())
        for record_id, record in records.items():
            now = after[resource].get(record_id)
            assert now is not None, f"{resource}/{record_id} is gone"
            expected = {k: v for k, v in record.items() if k not in ignored} | new_fields(resource, record)
            if "items" in record and resource.endswith("orders"):
                expected["items"] = [
                    {**line, **new_line_fields(resource, record, line, now)} for line in record["items"]
                ]
            assert {k: v for k, v in now.items() if k not in ignored} == expected, f"{resource}/{record_id}"
