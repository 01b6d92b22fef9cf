"""An install of the previous release, populated and with events in flight, upgrades to this checkout.

deploy/PREVIOUS_RELEASE names the release (scripts/previous_release.py materialises it from
git). Its local run starts on PostgreSQL and RabbitMQ (databases, queues and a data dir of the
test's own), is filled through the API with records in every state, and stops while events
are still unconsumed in the queues and unsent in the outboxes (tests/upgrade_fill.py freezes
its workers group by group). Then this checkout's local run starts on the same databases,
broker and data dir, as an operator's upgrade does: it migrates and starts every process. The
upgrade passes when every event in flight is applied exactly once, every record reads back as
before (new fields at their documented values), every check command finds nothing, and the
previous release's tokens are still good or cleanly refused. The in-flight events cover every
(type, version) the previous release's consumers subscribe to: each previous-version event
goes through this release's consumers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from platforms import AMQP_URL, PG_SERVER, delete_broker_names, drop_databases, free_port_base, running_platform
from previous_release import PreviousReleaseUnavailable, event_registry, prepare
from upgrade_fill import ADMIN, Api, BackOffice, Outboxes, Workers, log_lines, wait_for

ROOT = Path(__file__).resolve().parent.parent
PRODUCERS = ("contact", "inventory", "sales", "purchase")
CONSUMERS = ("inventory", "sales", "purchase")

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


@pytest.fixture(scope="module")
def previous():
    try:
        return prepare()
    except PreviousReleaseUnavailable as error:
        pytest.fail(str(error))


@pytest.fixture
def infrastructure():
    """Databases and broker names of this test's own (under ERP_TEST_DB_PREFIX, on ERP_TEST_BROKER_URL)."""
    tag = uuid.uuid4().hex[:8]
    names = {
        "ERP_POSTGRES_URL": PG_SERVER,
        "ERP_DB_PREFIX": f"{os.environ.get('ERP_TEST_DB_PREFIX', 'erp_')}upg_{tag}_",
        "BROKER_URL": os.environ.get("ERP_TEST_BROKER_URL", AMQP_URL),
        "ERP_EVENTS_PREFIX": f"upg{tag}.",
    }
    yield names
    delete_broker_names(names["ERP_EVENTS_PREFIX"], names["BROKER_URL"])
    drop_databases(names["ERP_DB_PREFIX"])


def queue_depths(broker: str, prefix: str) -> dict[str, int]:
    """Ready messages in every consumer's queue and dead-letter queue."""
    from kombu import Connection

    depths = {}
    with Connection(broker) as conn:
        channel = conn.channel()
        for consumer in CONSUMERS:
            for name in (f"{prefix}{consumer}.events", f"{prefix}{consumer}.events.dlq"):
                depths[name] = channel.queue_declare(name, passive=True).message_count
    return depths


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


class Marks:
    """Seconds since the test started at each of its steps (printed with -s; the report's figures)."""

    def __init__(self) -> None:
        self.started, self.steps = time.monotonic(), []

    def __call__(self, step: str) -> None:
        self.steps.append((step, time.monotonic() - self.started))

    def __str__(self) -> str:
        return "\n".join(f"  {seconds:6.1f} s  {step}" for step, seconds in self.steps)


def run_checks(platform: dict, data_dir: Path) -> list[subprocess.CompletedProcess]:
    """Run CHECK_COMMANDS, stage after stage."""
    results = []
    with ThreadPoolExecutor() as pool:
        for stage in CHECK_COMMANDS:
            args = [(service, tuple(a.format(data_dir=data_dir) for a in command)) for service, command in stage]
            results += pool.map(lambda item: run_check(platform, *item), args)
    return results


class Fill:
    """The records the test makes on the previous release, and the stock they must end with."""

    def __init__(self, api: Api, tag: str) -> None:
        self.api, self.tag = api, tag
        self.stock: dict[str, int] = {}  # item id -> on hand once every event is applied
        self.stock_status: dict[str, str] = {}  # sales order id -> stock_status once applied
        self.racing: list[str] = []  # two sales orders for the same stock: one issued, one short

    def item(self, name: str, opening: int, reorder_level: int = 0) -> str:
        item = self.api.post(
            "items",
            {
                "sku": f"upg-{name}-{self.tag}",
                "name": f"{name} {self.tag}",
                "unit_price": "9.50",
                "reorder_level": reorder_level,
            },
        )
        self.stock[item["id"]] = 0
        self.adjust(item["id"], opening)
        return item["id"]

    def adjust(self, item: str, change: int) -> None:
        self.api.call("PUT", f"items/{item}/stock", {"quantity": change, "reason": "stocktake"})
        self.stock[item] += change

    def party(self, kind: str, name: str) -> str:
        return self.api.post(kind, {"name": f"{name} {self.tag}", "email": f"{name.lower()}-{self.tag}@example.org"})[
            "id"
        ]

    def sale(self, customer: str, item: str, quantity: int, *, confirm: bool = True, racing: bool = False) -> str:
        """Make a sales order, confirmed unless told; ``racing``: one of two for the same stock (one is short)."""
        order = self.api.post(
            "sales/orders", {"customer_id": customer, "items": [{"item_id": item, "quantity": quantity}]}
        )
        if confirm:
            self.api.post(f"sales/orders/{order['id']}/confirm")
            if racing:
                self.racing.append(order["id"])
                if len(self.racing) == 2:
                    self.stock[item] -= quantity
                return order["id"]
            self.stock_status[order["id"]] = "issued"
            self.stock[item] -= quantity
        return order["id"]

    def cancel_sale(self, order: str, item: str, quantity: int) -> None:
        self.api.post(f"sales/orders/{order}/cancel")
        self.stock_status[order] = "returned"
        self.stock[item] += quantity

    def purchase(self, vendor: str, item: str, quantity: int, *, receive: bool = True) -> str:
        order = self.api.post(
            "purchase/orders",
            {"vendor_id": vendor, "items": [{"item_id": item, "quantity": quantity, "unit_price": "4.25"}]},
        )
        if receive:
            self.api.post(f"purchase/orders/{order['id']}/receive")
            self.stock[item] += quantity
        return order["id"]

    def rename(self, kind: str, party: str, name: str) -> None:
        self.api.call("PATCH", f"{kind}/{party}", {"name": f"{name} {self.tag}"})

    def stocked(self) -> bool:
        return all(self.api.get(f"items/{i}/stock")["quantity"] == q for i, q in self.stock.items())

    def settled(self) -> bool:
        status = {o: self.api.get(f"sales/orders/{o}")["stock_status"] for o in [*self.stock_status, *self.racing]}
        return (
            self.stocked()
            and all(status[o] == s for o, s in self.stock_status.items())
            and (not self.racing or sorted(status[o] for o in self.racing) == ["issued", "short"])
        )


def test_the_previous_release_upgrades_with_its_data_and_events_in_flight(
    previous, postgres_turn, infrastructure, tmp_path
):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    outboxes = Outboxes(PG_SERVER, infrastructure["ERP_DB_PREFIX"])
    old_registry = event_registry(previous)
    base = free_port_base()
    tag = uuid.uuid4().hex[:6]

    # given: the previous release, filled through its API with records in every state
    marks = Marks()
    with running_platform(data_dir, release=previous, base=base, **infrastructure) as old:
        marks("previous release up")
        api = Api(old["gateway"])
        fill = Fill(api, tag)
        workers = Workers(old["process"].pid)
        user = {"email": f"upg-{tag}@example.org", "password": "Sturdy-Pass-2026"}
        api.client.post("auth/register", json={**user, "role": "inventory_manager"}).raise_for_status()
        lamp, desk, cable = fill.item("lamp", 50, reorder_level=5), fill.item("desk", 20), fill.item("cable", 3, 10)
        ada, bob, cyd = (fill.party("customers", name) for name in ("Ada", "Bob", "Cyd"))
        vale, wren = fill.party("vendors", "Vale"), fill.party("vendors", "Wren")
        paid_purchase = fill.purchase(vale, lamp, 10)
        api.post(f"purchase/orders/{paid_purchase}/pay")
        fill.purchase(vale, desk, 5, receive=False)  # stays a draft
        cancelled_purchase = fill.purchase(wren, lamp, 1, receive=False)
        api.post(f"purchase/orders/{cancelled_purchase}/cancel")
        paid_sale = fill.sale(ada, lamp, 5)
        fill.sale(ada, desk, 2, confirm=False)  # stays a draft
        cancelled_draft = fill.sale(bob, desk, 3, confirm=False)
        api.post(f"sales/orders/{cancelled_draft}/cancel")
        issued = {
            name: fill.sale(who, item, n)
            for name, who, item, n in (
                ("to return in the queue", bob, lamp, 4),
                ("to return via the queue", cyd, desk, 4),
                ("to return via the outbox", cyd, cable, 1),
            )
        }
        wait_for(fill.settled, "the previous release to apply the first orders")
        api.post(f"sales/orders/{paid_sale}/pay")
        # The run seeds its demo orders beside the fill: they settle before any worker is frozen.
        wait_for(
            lambda: len(log_lines(old["log"], r"(?:orders: \d+ step|demo orders not seeded)")) >= 2,
            "the previous release's demo orders",
        )

        # when: sales' and purchase's consumers stop; what they consume waits in their queues
        stopped = dict.fromkeys(("sales", "purchase"), workers.freeze("consume_events", ("sales_svc", "purchase_svc")))
        dan = fill.party("customers", "Dan")
        fill.rename("customers", ada, "Ada Renamed")
        gone = fill.party("customers", "Gone")
        api.call("DELETE", f"customers/{gone}")
        fill.rename("vendors", vale, "Vale Renamed")
        xan = fill.party("vendors", "Xan")
        api.call("DELETE", f"vendors/{xan}")
        fill.sale(bob, lamp, 3)  # issued by inventory, its answer queued for sales
        # Two orders for all the desks on hand, confirmed while inventory's consumer waits: sales' own
        # check passes for both, and inventory then issues one and is short of the other.
        inventory_consumer = workers.freeze("consume_events", ("inventory_svc",))
        for who in (bob, cyd):
            fill.sale(who, desk, fill.stock[desk], racing=True)
        workers.thaw(inventory_consumer)
        fill.cancel_sale(issued["to return in the queue"], lamp, 4)
        # (inventory answered every order: its stock at the expected figures, sales not told yet)
        wait_for(fill.stocked, "inventory to apply what sales sent")
        outboxes.wait_until_sent(PRODUCERS)

        # and: inventory's consumer stops too; sales' and purchase's events for it wait in its queue
        stopped["inventory"] = workers.freeze("consume_events", ("inventory_svc",))
        fill.sale(ada, lamp, 2)
        fill.cancel_sale(issued["to return via the queue"], desk, 4)
        fill.purchase(wren, desk, 7)
        outboxes.wait_until_sent(PRODUCERS)

        # and: every relay stops; what is written next stays unsent in the outboxes
        workers.freeze("relay_outbox")
        fill.sale(dan, lamp, 2)
        fill.cancel_sale(issued["to return via the outbox"], cable, 1)
        short_of_cable = fill.purchase(vale, cable, 6)
        api.post(f"purchase/orders/{short_of_cable}/pay")
        fill.rename("customers", bob, "Bob Renamed")
        fill.rename("vendors", wren, "Wren Renamed")
        bulb = fill.item("bulb", 8, reorder_level=5)
        fill.adjust(bulb, -4)  # to below its reorder level: inventory.stock.low in inventory's outbox
        before = api.snapshot()
        session = Api(old["gateway"]).login(user["email"], user["password"])
        back_office = BackOffice(old["public"])
        back_office.sign_in("/admin/inventory/", *ADMIN)
        in_flight = outboxes.in_flight(PRODUCERS, old_registry["subscriptions"], stopped)
        unsent = {s: outboxes.pending(s) for s in PRODUCERS}
        # The previous release stops the way a crash leaves it: its frozen workers killed, the rest stopped.
        marks("previous release filled, events in flight")
        workers.kill_frozen()
        old["process"].wait(timeout=60)
    queued = queue_depths(infrastructure["BROKER_URL"], infrastructure["ERP_EVENTS_PREFIX"])
    marks("previous release stopped")

    # then (before the upgrade): events of every kind the previous consumers take are in flight, both ways
    kinds = {(event.event_type, event.version) for event in in_flight}
    assert kinds == {tuple(t) for types in old_registry["subscriptions"].values() for t in types}
    assert all(unsent.values()), unsent
    assert sum(queued[f"{infrastructure['ERP_EVENTS_PREFIX']}{c}.events"] for c in CONSUMERS) > 0, queued

    # when: this release starts on the same databases, broker and data dir
    with running_platform(data_dir, base=base, **infrastructure) as new:
        marks("this release migrated and up")
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
        me = api.client.get("auth/me", headers={"Authorization": f"Bearer {session['access_token']}"})
        refreshed = api.client.post("auth/refresh", json={"refresh_token": session["refresh_token"]})
        admin_pages = {path: back_office.visit(path) for path in ADMIN_PAGES}
        depths = queue_depths(infrastructure["BROKER_URL"], infrastructure["ERP_EVENTS_PREFIX"])
        applied = {c: outboxes.applied(c, [e.event_id for e in in_flight if e.consumer == c]) for c in CONSUMERS}

    marks("this release stopped")

    # then: each event in flight was applied exactly once, and nothing was dead-lettered
    assert {c: set(counts.values()) for c, counts in applied.items() if counts} == {c: {1} for c in CONSUMERS}
    assert sum(len(counts) for counts in applied.values()) == len(in_flight)
    assert depths == dict.fromkeys(depths, 0)
    # and: the stock and the orders' copies moved exactly as the events say
    assert {i: after["items"][i]["quantity"] for i in fill.stock} == fill.stock
    assert {o: after["sales/orders"][o]["stock_status"] for o in fill.stock_status} == fill.stock_status
    assert after["sales/orders"][paid_sale]["customer_name"] == f"Ada Renamed {tag}"
    assert after["purchase/orders"][paid_purchase]["vendor_name"] == f"Vale Renamed {tag}"
    assert after["purchase/orders"][short_of_cable]["status"] == "Paid"
    # and: every record reads back as before, the new fields at their documented values
    assert_read_back(before, after)
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
    records = sum(len(records) for name, records in before.items() if name != "movements")
    movements = sum(len(ledger) for ledger in before["movements"].values())
    print(
        f"\nupgrade: {records} records and {movements} ledger rows carried over; {len(in_flight)} events in flight "
        f"(event x consumer; {sum(unsent.values())} outbox rows unsent, {sum(queued.values())} queued)\n{marks}"
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
