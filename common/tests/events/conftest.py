"""Fixtures for the event tests: a private topology on the real RabbitMQ, background relays and
consumers, and a TCP proxy (``erp_testkit.faults``) to break the link without touching RabbitMQ."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from kombu import Connection, Producer

from common.events import publish_event, registry
from common.events.consumer import EventConsumer
from common.events.relay import Relay
from common.events.topology import Topology
from erp_testkit.broker import publishing_connection
from erp_testkit.faults import TcpProxy
from tests.events.testapp.handlers import BEHAVIOURS, HANDLERS

RETRY_DELAYS = [0.2, 0.4]


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


@pytest.fixture(scope="session", autouse=True)
def _test_database_released(django_db_setup, django_db_blocker):
    """End the test database's other sessions before pytest-django drops it.

    The relays and consumers these tests run in threads, and the processes they start, hold
    connections of their own that Django closes for no one; one still open at the end failed the
    drop ("is being accessed by other users") and left the database on the shared server.
    """
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


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
        "PUBLISH_TIMEOUT": 2.0,
        "BROKER_TIMEOUT": 2.0,
        "HEARTBEAT": 2,
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


@pytest.fixture(autouse=True)
def _publishing_as_sales(settings):
    # The test events are sales events: publish_event refuses a foreign producer.
    settings.SERVICE_NAME = "sales"


def order_data(
    *, seq: int = 0, behaviour: str = "ok", order_id: uuid.UUID | None = None
) -> registry.SalesOrderConfirmedData:
    """A confirmed order whose one line's quantity is ``seq`` (the handlers record it)."""
    line = registry.OrderLine(
        item_id=uuid.UUID(int=100), quantity=seq, unit_price=Decimal("1.00"), subtotal=Decimal(seq)
    )
    return registry.SalesOrderConfirmedData(
        order_id=order_id or uuid.uuid4(), customer_id=BEHAVIOURS[behaviour], total_amount=Decimal(seq), items=(line,)
    )


def publish_confirmed(*, seq: int = 0, behaviour: str = "ok", order_id: uuid.UUID | None = None):
    data = order_data(seq=seq, behaviour=behaviour, order_id=order_id)
    with transaction.atomic():
        return publish_event(
            registry.SALES_ORDER_CONFIRMED, data=data, aggregate_id=data.order_id, aggregate_version=seq + 1
        )


def publish_rows(amqp_url: str, topology: Topology, rows) -> None:
    """Publish outbox ``rows`` straight to the exchange as the relay would (none runs), in that order.

    With publisher confirms, as the relay publishes (``erp_testkit.broker.publishing_connection``).
    """
    with publishing_connection(amqp_url) as conn:
        producer = Producer(conn.default_channel)
        for row in rows:
            producer.publish(
                row.payload.encode(),
                exchange=topology.exchange,
                routing_key=row.event_type,
                content_type="application/json",
                content_encoding="utf-8",
                message_id=str(row.event_id),
            )


@pytest.fixture
def proxy():
    p = TcpProxy()
    yield p
    p.close()
