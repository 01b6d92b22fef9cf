"""Fixtures for the event tests: a private topology on the real RabbitMQ, background relays and
consumers, and a TCP proxy to cut the broker off without touching RabbitMQ itself."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from kombu import Connection

from common.events import publish_event, registry
from common.events.consumer import EventConsumer
from common.events.relay import Relay
from common.events.topology import Topology
from tests.events.testapp.handlers import HANDLERS

RETRY_DELAYS = [0.2, 0.4]


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until truthy; fail the test (never hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = settings.BROKER_URL
    # These tests are about RabbitMQ: a missing broker is a failure, never a skip.
    assert url.startswith("amqp://"), f"BROKER_URL must point at RabbitMQ for the event tests, got {url!r}"
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        pytest.fail(f"RabbitMQ at {url} is not reachable: {exc!r}")
    return url


@pytest.fixture
def postgres(db):
    assert connection.vendor == "postgresql", "the event tests need PostgreSQL (set ERP_POSTGRES_URL)"


@pytest.fixture
def events_settings(settings, amqp_url):
    """A private topology (unique prefix) with short delays; deleted afterwards."""
    prefix = f"erptest.{uuid.uuid4().hex[:10]}."
    settings.ERP_EVENTS = {
        "PREFIX": prefix,
        "RETRY_DELAYS": RETRY_DELAYS,
        "RELAY_SWEEP_INTERVAL": 0.5,
        "RELAY_BACKOFF_INITIAL": 0.1,
        "RELAY_BACKOFF_MAX": 0.5,
        "PUBLISH_TIMEOUT": 3.0,
        "HEARTBEAT": 10,
    }
    topology = Topology()
    with Connection(amqp_url) as conn:
        topology.declare(conn)
    yield settings.ERP_EVENTS
    with Connection(amqp_url) as conn:
        topology.delete(conn)
        # Subprocesses may have declared retry queues for the default delays too.
        Topology(prefix=prefix, retry_delays=[1.0, 5.0, 30.0]).delete(conn)


@pytest.fixture
def topology(events_settings) -> Topology:
    return Topology()


class Background:
    """Relays and consumers in threads, each stopped and joined at teardown."""

    def __init__(self):
        self.threads: list[tuple[threading.Thread, Callable[[], None]]] = []

    def _start(self, target, stop) -> None:
        def run():
            try:
                target()
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append((thread, stop))

    def relay(self, **kwargs) -> Relay:
        relay = Relay(**kwargs)
        self._start(relay.run_forever, relay.stop)
        return relay

    def consumer(self, **kwargs) -> EventConsumer:
        kwargs.setdefault("consumer", "inventory")
        kwargs.setdefault("handlers", HANDLERS)
        worker = EventConsumer(**kwargs)
        self._start(lambda: worker.run(safety_interval=0.2), worker.stop)
        return worker

    def stop_all(self) -> None:
        for _, stop in self.threads:
            stop()
        for thread, _ in self.threads:
            thread.join(timeout=10)
            assert not thread.is_alive(), "a background relay/consumer did not stop"


@pytest.fixture
def background(topology):
    bg = Background()
    yield bg
    bg.stop_all()


def order_data(*, seq: int = 0, behaviour: str = "ok", order_id: uuid.UUID | None = None) -> dict:
    return {
        "order_id": order_id or uuid.uuid4(),
        "customer_id": behaviour,
        "total_amount": "1.00",
        "items": [{"seq": seq}],
    }


def publish_confirmed(*, seq: int = 0, behaviour: str = "ok", order_id: uuid.UUID | None = None):
    data = order_data(seq=seq, behaviour=behaviour, order_id=order_id)
    with transaction.atomic():
        return publish_event(registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=str(data["order_id"]))


class TcpProxy:
    """Forward 127.0.0.1:<port> to the broker; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target=("127.0.0.1", 5672), vhost_path: str = "//"):
        self.target = target
        self.vhost_path = vhost_path  # the URL path naming the virtual host: "//" is "/"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.closed = False
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}{self.vhost_path}"

    def cut(self) -> None:
        with self.lock:
            self.up = False
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass


@pytest.fixture
def proxy(amqp_url):
    # Through the proxy to the same virtual host the suite uses (ERP_TEST_BROKER_URL).
    p = TcpProxy(vhost_path=urlsplit(amqp_url).path)
    yield p
    p.close()
