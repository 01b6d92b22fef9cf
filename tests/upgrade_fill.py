"""The populated platform tests/test_upgrade.py upgrades: what it holds, and how its events are left in flight.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

ADMIN = ("admin@demo.example", "AdminPass!2026")
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
