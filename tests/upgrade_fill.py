"""The populated platform tests/test_upgrade.py upgrades: what it holds, and how its events are left in flight.

``fill_and_stop`` fills the previous release's running local run and stops it with events in
flight (tests/platforms.py ``upgraded``, the postgres flavour, then starts this checkout's run on
the same databases, broker and data dir); what it leaves, ``PreviousRelease``, is what
tests/test_upgrade.py checks once this release has applied it.

``Api`` talks to a running platform through its gateway (as the admin, who may do
everything). ``Workers`` finds the relays and consumers a local run started and freezes them
(SIGSTOP) one group at a time, so that the writes made after each freeze leave events where a
real outage would: unconsumed in a consumer's queue (its consumer frozen, the producer's relay
still publishing) or unsent in a producer's outbox (every relay frozen). ``Outboxes`` reads the
outbox and inbox tables of the run's databases, which is how the test counts what is in flight
and proves each of those events applied once.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

ADMIN = ("admin@demo.example", "AdminPass!2026")
PRODUCERS = ("contact", "inventory", "sales", "purchase")
CONSUMERS = ("inventory", "sales", "purchase")
WAIT_SECONDS = 60
# The resources read back before and after the upgrade: gateway path, and the ids of nested reads.
RESOURCES = ("auth/users", "customers", "vendors", "items", "sales/orders", "purchase/orders")


class Api:
    """A client of one running platform's gateway, signed in as the admin."""

    def __init__(self, gateway: str, token: str | None = None) -> None:
        self.client = httpx.Client(base_url=f"{gateway}/api/", timeout=30)
        self.token = token or self.login(*ADMIN)["access_token"]

    def login(self, email: str, password: str) -> dict:
        answer = self.client.post("auth/login", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def call(self, method: str, path: str, body: dict | None = None, *, expected=(200, 201, 204)) -> dict:
        answer = self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {self.token}"})
        assert answer.status_code in expected, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json().get("data", {}) if answer.content else {}

    def post(self, path: str, body: dict | None = None) -> dict:
        return self.call("POST", path, body or {})

    def get(self, path: str) -> dict:
        return self.call("GET", path)

    def every(self, resource: str) -> dict[str, dict]:
        """Every record of a list resource, by id (all pages)."""
        records: dict[str, dict] = {}
        while True:
            answer = self.client.get(
                resource,
                params={"limit": 100, "offset": len(records)},
                headers={"Authorization": f"Bearer {self.token}"},
            )
            assert answer.status_code == 200, f"GET {resource}: {answer.status_code} {answer.text}"
            body = answer.json()
            records |= {record["id"]: record for record in body["data"]}
            if len(records) >= body["meta"]["total"] or not body["data"]:
                return records

    def snapshot(self) -> dict[str, dict[str, dict]]:
        """Every record of every resource, and each item's ledger, as the API shows them."""
        taken = {resource: self.every(resource) for resource in RESOURCES}
        taken["movements"] = {item: self.every(f"items/{item}/movements") for item in taken["items"]}
        return taken

    def wait_for(self, path: str, key: str, value, timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.get(path).get(key)
            if seen == value:
                return
            time.sleep(0.2)
        raise AssertionError(f"GET {path}: {key} is {seen!r}, waited {timeout} s for {value!r}")


class BackOffice:
    """A browser's cookies at the back office (the gateway's /admin/), signed in through auth_svc's single sign-on."""

    SIGN_IN_FORM = 'id="login-form"'
    INDEX = "Site administration"

    def __init__(self, public: str) -> None:
        self.client = httpx.Client(base_url=public, follow_redirects=True, timeout=30)

    def sign_in(self, path: str, email: str, password: str) -> None:
        page = self.client.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert self.SIGN_IN_FORM in page.text and token, page.text[:500]
        data = {"csrfmiddlewaretoken": token.group(1), "email": email, "password": password}
        signed_in = self.client.post(str(page.url), data=data, headers={"Referer": str(page.url)})
        assert signed_in.status_code == 200 and self.INDEX in signed_in.text, signed_in.text[:500]

    def visit(self, path: str) -> tuple[list[int], str]:
        """Return every status on the way to ``path`` and what the browser ends on: the page, or the sign-in form."""
        page = self.client.get(path)
        statuses = [step.status_code for step in page.history] + [page.status_code]
        return statuses, "sign in again" if self.SIGN_IN_FORM in page.text else "signed in"


# ---------------------------------------------------------------- the processes of a local run


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Worker:
    pid: int
    service: str  # the service's folder: inventory_svc
    command: str  # relay_outbox or consume_events


@dataclass
class Workers:
    """The relays and consumers of one local run (the supervisor's descendants), frozen on demand."""

    run_pid: int
    frozen: list[Worker] = field(default_factory=list)
    last_freeze: int = 0

    def find(self) -> list[Worker]:
        found = []
        for pid in descendants(self.run_pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                folder = Path(os.readlink(f"/proc/{pid}/cwd")).name
            except OSError:
                continue
            command = next((a.decode() for a in argv if a in (b"relay_outbox", b"consume_events")), None)
            if command and argv[0] != b"/bin/sh":
                found.append(Worker(pid, folder, command))
        return found

    def freeze(self, command: str, services: tuple[str, ...] | None = None) -> datetime:
        """SIGSTOP every ``command`` worker (of ``services``); return the moment they stopped (UTC)."""
        chosen = [w for w in self.find() if w.command == command and (services is None or w.service in services)]
        assert chosen, f"no {command} of {services or 'any service'} running"
        for worker in chosen:
            os.kill(worker.pid, signal.SIGSTOP)
        self.last_freeze = len(self.frozen)
        self.frozen += chosen
        return datetime.now(UTC)

    def thaw(self, since: datetime) -> None:
        """SIGCONT the workers the freeze at ``since`` stopped (the last one)."""
        for worker in self.frozen[self.last_freeze :]:
            os.kill(worker.pid, signal.SIGCONT)
        del self.frozen[self.last_freeze :]

    def kill_frozen(self) -> None:
        """SIGKILL the frozen workers, as a crash would (the supervisor then stops the rest)."""
        for worker in self.frozen:
            os.kill(worker.pid, signal.SIGKILL)


# ---------------------------------------------------------------- the outbox and inbox tables


@dataclass(frozen=True)
class InFlight:
    event_id: str
    event_type: str
    version: int
    consumer: str


class Outboxes:
    """Reads the outbox (producers) and inbox (consumers) of a run's databases."""

    def __init__(self, server: str, db_prefix: str) -> None:
        self.server, self.db_prefix = server, db_prefix

    def query(self, service: str, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"{self.server}/{self.db_prefix}{service}") as conn:
            return conn.execute(sql, params).fetchall()

    def pending(self, service: str) -> int:
        return self.query(service, "SELECT count(*) FROM events_outboxevent WHERE sent_at IS NULL")[0][0]

    def resend(self, service: str) -> int:
        """Mark every sent event of ``service`` unsent, as a relay that died before recording its sends leaves them.

        The next relay publishes each again: a duplicate of an event its consumers applied or hold queued.
        """
        import psycopg

        with psycopg.connect(f"{self.server}/{self.db_prefix}{service}") as conn:
            return conn.execute("UPDATE events_outboxevent SET sent_at = NULL WHERE sent_at IS NOT NULL").rowcount

    def wait_until_sent(self, services: tuple[str, ...], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while any(self.pending(s) for s in services):
            assert time.monotonic() < deadline, {s: self.pending(s) for s in services}
            time.sleep(0.2)

    def in_flight(
        self, producers: tuple[str, ...], subscriptions: dict[str, list], stopped: dict[str, datetime]
    ) -> set[InFlight]:
        """Events each consumer has yet to apply: unsent, or sent after its consumer was frozen."""
        found = set()
        for producer in producers:
            rows = self.query(producer, "SELECT event_id::text, event_type, version, sent_at FROM events_outboxevent")
            for event_id, event_type, version, sent_at in rows:
                for consumer, types in subscriptions.items():
                    if [event_type, version] in types and (sent_at is None or sent_at >= stopped[consumer]):
                        found.add(InFlight(event_id, event_type, version, consumer))
        return found

    def applied(self, consumer: str, event_ids: list[str]) -> dict[str, int]:
        """How many inbox records ``consumer`` holds for each of ``event_ids``."""
        rows = self.query(
            consumer,
            "SELECT event_id::text, count(*) FROM events_inboxevent WHERE consumer = %s AND event_id::text = ANY(%s) "
            "GROUP BY event_id",
            (consumer, event_ids),
        )
        return dict(rows)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.3)


def log_lines(path: Path, pattern: str) -> list[str]:
    return re.findall(pattern, path.read_text(errors="replace"), flags=re.MULTILINE)


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


class Marks:
    """Seconds since the test started at each of its steps (printed with -s; the report's figures)."""

    def __init__(self) -> None:
        self.started, self.steps = time.monotonic(), []

    def __call__(self, step: str) -> None:
        self.steps.append((step, time.monotonic() - self.started))

    def __str__(self) -> str:
        return "\n".join(f"  {seconds:6.1f} s  {step}" for step, seconds in self.steps)


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


@dataclass
class PreviousRelease:
    """The previous release's run, filled and stopped with events in flight (``fill_and_stop``)."""

    tag: str
    fill: Fill
    outboxes: Outboxes
    subscriptions: dict[str, list]  # the previous release's consumers' (type, version) pairs
    paid_sale: str
    paid_purchase: str
    short_of_cable: str
    before: dict  # every record as the API showed it
    session: dict  # a login's tokens
    back_office: BackOffice  # the admin's signed-in browser
    in_flight: set[InFlight]
    unsent: dict[str, int]  # outbox rows per producer
    queued: dict[str, int] = field(default_factory=dict)  # ready messages per queue, once stopped
    resent: dict[str, int] = field(default_factory=dict)  # sent events marked unsent again
    marks: Marks = field(default_factory=Marks)


def fill_and_stop(old: dict, subscriptions: dict[str, list], outboxes: Outboxes, marks: Marks) -> PreviousRelease:
    """Fill the previous release's running ``old`` through its API, leave events in flight, and stop it.

    Records in every state; then sales' and purchase's consumers freeze (what they consume waits
    in their queues), then inventory's, then every relay (what is written next stays unsent).
    Then it stops as a crash leaves it: the frozen workers are killed (SIGKILL), the supervisor
    stops the rest, and this returns once the run's process has exited.
    """
    tag = uuid.uuid4().hex[:6]
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
    in_flight = outboxes.in_flight(PRODUCERS, subscriptions, stopped)
    unsent = {s: outboxes.pending(s) for s in PRODUCERS}
    # The previous release stops the way a crash leaves it: its frozen workers killed, the rest stopped.
    marks("previous release filled, events in flight")
    workers.kill_frozen()
    old["process"].wait(timeout=60)
    return PreviousRelease(
        tag=tag,
        fill=fill,
        outboxes=outboxes,
        subscriptions=subscriptions,
        paid_sale=paid_sale,
        paid_purchase=paid_purchase,
        short_of_cable=short_of_cable,
        before=before,
        session=session,
        back_office=back_office,
        in_flight=in_flight,
        unsent=unsent,
        marks=marks,
    )


def count_queued_and_mark_sent_unsent(previous: PreviousRelease, broker: str, events_prefix: str) -> None:
    """Once the run has stopped: count what its queues hold, and mark every sent event unsent again.

    Its relays "died" before recording what they sent: this release's relays publish each again.
    """
    previous.queued = queue_depths(broker, events_prefix)
    previous.resent = {s: previous.outboxes.resend(s) for s in PRODUCERS}
    previous.marks("previous release stopped")
