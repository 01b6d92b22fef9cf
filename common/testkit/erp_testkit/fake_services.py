"""contact_svc, inventory_svc, auth_svc (and sales_svc, purchase_svc) faked at the HTTP edge.

:class:`FakeServices` is a real (tiny) HTTP server on a free port answering the calls
orders make (``/service-token``, ``GET /customers/{id}``, ``GET /vendors/{id}``,
``POST /internal/items/lookup``, ``POST /internal/stock/availability``), the searches of
the admins' order entry (``GET /customers?search=``, ``/vendors``, ``/items``, and
``/customers/lookup?ids=``, ``/vendors/lookup``), and the order
services' ``GET /internal/<kind>/{id}/orders`` that inventory and contact ask before a
delete (no order by default; ``use(path, order_ids)``), from dictionaries a test fills
in, and recording every request, so the real :class:`common.http.ServiceClient` (pool,
token, timeouts, error mapping) is what the tests exercise. ``delay`` makes it slow;
pointing the settings at a closed port makes a service unreachable.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _ok(data) -> dict:
    return {"status": 200, "message": "OK", "data": data}


class QuietHTTPServer(ThreadingHTTPServer):
    """A fake upstream's server: one thread per request, and no traceback when the client hung up first.

    A client's timeout (the timeout tests cause it on purpose) closes the connection before the
    answer is written; the server's default prints that BrokenPipeError as if it were a failure.
    """

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 kept alive between requests, closed after ``timeout`` s idle as gunicorn's ``keepalive`` does.

    Every answer, to a GET or a POST, is a success envelope naming the client port the request came
    in on, so a test sees whether a pool reused its TCP connection or opened a new one.
    """

    protocol_version = "HTTP/1.1"
    timeout = 0.6  # the server's keep-alive (a socket timeout on the next request line)

    def do_GET(self):
        body = json.dumps({"status": 200, "message": "OK", "data": {"port": self.client_address[1]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def keep_alive_upstream() -> Iterator[str]:
    """Serve :class:`KeepAliveHandler` on a free loopback port while the block runs; yield its URL."""
    server = QuietHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FakeServices(QuietHTTPServer):
    # The race tests call it from 20 threads at once: socketserver's backlog of 5 made connects time out.
    request_queue_size = 64

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reset()

    def reset(self) -> None:
        self.contacts: dict[str, dict[str, dict]] = {"customers": {}, "vendors": {}}
        self.items: dict[str, dict] = {}
        self.stock: dict[str, int] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.authorizations: list[tuple[str, str]] = []
        self.request_ids: list[tuple[str, str | None]] = []
        self.delay = 0.0
        self.status_override: dict[str, int] = {}
        self.orders_using: dict[str, list[str]] = {}
        # path -> what to make of a 200 answer's ``data`` before it goes out: an answer of another release, or
        # a broken one (``services.rewrite[path] = lambda data: {**data, "unknown": ""}``).
        self.rewrite: dict[str, Callable[[Any], Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_contact(self, kind: str, name: str = "Acme Ltd") -> str:
        contact_id = str(uuid.uuid4())
        self.contacts[kind][contact_id] = {"id": contact_id, "name": name, "email": f"{contact_id[:8]}@example.com"}
        return contact_id

    def add_item(self, *, sku: str = "", name: str = "Widget", unit_price: str = "1.00", stock: int = 0) -> str:
        item_id = str(uuid.uuid4())
        sku = sku or f"SKU-{item_id[:6].upper()}"
        self.items[item_id] = {"id": item_id, "sku": sku, "name": name, "unit_price": Decimal(unit_price)}
        self.stock[item_id] = stock
        return item_id

    def use(self, path: str, order_ids: list[str]) -> None:
        """Make the order service answer ``path`` (``/internal/items/{id}/orders``) with these orders."""
        self.orders_using[path] = order_ids

    def calls(self, path: str) -> list[dict | None]:
        """Return the bodies of the requests made to ``path`` (None for a GET)."""
        return [body for _, seen, body in self.requests if seen == path]

    def start(self) -> FakeServices:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class _Handler(BaseHTTPRequestHandler):
    server: FakeServices

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status: int, body) -> None:
        if status == 200 and self.path in self.server.rewrite:
            body = {**body, "data": self.server.rewrite[self.path](body["data"])}
        # Money goes out as JSON numbers with their exact digits, as the services send it.
        payload = json.dumps(body, default=lambda value: float(value) if isinstance(value, Decimal) else str(value))
        payload = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _begin(self, body) -> int | None:
        self.server.requests.append((self.command, self.path, body))
        self.server.authorizations.append((self.path, self.headers.get("Authorization", "")))
        self.server.request_ids.append((self.path, self.headers.get("X-Request-ID")))
        if self.server.delay:
            time.sleep(self.server.delay)
        return self.server.status_override.get(self.path)

    def do_GET(self):
        forced = self._begin(None)
        if forced:
            return self._answer(forced, {"status": forced})
        if self.path.startswith("/internal/") and self.path.endswith("/orders"):
            order_ids = self.server.orders_using.get(self.path, [])
            return self._answer(200, _ok({"count": len(order_ids), "order_ids": order_ids[:5]}))
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if parts == ["items"]:
            return self._answer(200, _ok(self._search(self._items_with_stock(), query, ("sku", "name"))))
        if len(parts) == 1 and parts[0] in self.server.contacts:
            contacts = self.server.contacts[parts[0]].values()
            return self._answer(200, _ok(self._search(contacts, query, ("name", "email"))))
        if parts[1:] == ["lookup"] and parts[0] in self.server.contacts:
            wanted = query.get("ids", "").split(",")
            contacts = self.server.contacts[parts[0]]
            return self._answer(200, _ok([contacts[contact_id] for contact_id in wanted if contact_id in contacts]))
        if len(parts) == 2 and parts[0] in self.server.contacts:
            contact = self.server.contacts[parts[0]].get(parts[1])
            if contact:
                return self._answer(200, _ok(contact))
        return self._answer(404, {"status": 404, "error": {"type": "not_found"}})

    def _items_with_stock(self) -> list[dict]:
        return [{**item, "quantity": self.server.stock.get(item_id, 0)} for item_id, item in self.server.items.items()]

    @staticmethod
    def _search(rows, query: dict[str, str], fields: tuple[str, ...]) -> list[dict]:
        """The list's ``search`` (any of ``fields`` contains it, any case), ``active``, ``ordering`` and ``limit``."""
        term = query.get("search", "").lower()
        found = [row for row in rows if any(term in str(row[name]).lower() for name in fields)]
        if query.get("active") == "true":
            found = [row for row in found if row.get("active", True)]
        ordering = query.get("ordering", fields[0])
        found.sort(key=lambda row: str(row[ordering]))
        return found[: int(query.get("limit", 10))]

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        forced = self._begin(body)
        if forced:
            return self._answer(forced, {"status": forced})
        if self.path == "/service-token":
            return self._answer(200, _ok({"access_token": "test-token", "token_type": "Bearer", "expires_in": 900}))
        if self.path == "/internal/items/lookup":
            found = [self.server.items[item_id] for item_id in body["ids"] if item_id in self.server.items]
            return self._answer(200, _ok(found))
        if self.path == "/internal/stock/availability":
            # Like inventory: the pending claims count against the stock (this fake decides no order).
            claimed: dict[str, int] = {}
            for claim in body.get("pending", []):
                claimed[claim["item_id"]] = claimed.get(claim["item_id"], 0) + claim["quantity"]
            # Like inventory: an item it does not have (deleted) has no stock either, whatever it had.
            on_hand = {item: self.server.stock.get(item, 0) for item in self.server.items}
            short = [
                {"item_id": line["item_id"], "requested": line["quantity"], "available": available}
                for line in body["items"]
                if (available := max(0, on_hand.get(line["item_id"], 0) - claimed.get(line["item_id"], 0)))
                < line["quantity"]
            ]
            unknown = [line["item_id"] for line in body["items"] if line["item_id"] not in self.server.items]
            return self._answer(200, _ok({"available": not short, "short": short, "unknown": unknown}))
        return self._answer(404, {"status": 404, "error": {"type": "not_found"}})


def closed_port_url() -> str:
    """Return the URL of a local port nobody listens on (a service that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
