"""Fixtures of the inventory tests: clients per role, items with stock put there through the service."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from common.events.models import OutboxEvent

# sales_svc and purchase_svc, asked before an item is deleted (common.uses): faked for every test.
from erp_testkit.orders import fake_services, order_services  # noqa: F401
from inventory.lines import StockLine
from inventory.models import Item, Stock, StockMovement
from inventory.services import stock_adjust, stock_issue_for_order

from .factories import ItemFactory


@pytest.fixture
def make_item():
    """Create an item (stock 0); ``stock=N`` puts N on hand through the service, as an adjustment."""

    def make(stock: int = 0, **fields) -> Item:
        item = ItemFactory(**fields)
        if stock:
            stock_adjust(changes={item.pk: stock}, actor="test setup")
        return item

    return make


@pytest.fixture
def outbox():
    """Return the outbox rows written so far, oldest first, as (event type, data)."""
    return lambda: [(row.event_type, json.loads(row.payload)["data"]) for row in OutboxEvent.objects.order_by("id")]


@pytest.fixture
def snapshot():
    """Return every inventory row and the outbox, to assert that nothing changed."""

    def take():
        return (
            list(Item.objects.order_by("id").values()),
            list(Stock.objects.order_by("item_id").values()),
            list(StockMovement.objects.order_by("id").values()),
            OutboxEvent.objects.count(),
        )

    return take


def on_hand(item: Item) -> int:
    return Stock.objects.get(item_id=item.pk).quantity


def ledger_total(item: Item) -> int:
    return sum(StockMovement.objects.filter(item_id=item.pk).values_list("change", flat=True))


@pytest.fixture(autouse=True)
def _order_services(request):
    """No order uses anything unless the test says so (``order_services.use``)."""
    return request.getfixturevalue("order_services")


# When the backorder tests' confirmations were made: minutes after it order the backorder queue.
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def confirm_allowing_backorder(order_id, *lines, minutes=0):
    """Inventory applies a backorder-allowed confirmation of ``(item, quantity)`` lines made at T0 + ``minutes``."""
    return stock_issue_for_order(
        order_id=order_id,
        lines=[StockLine(item_id=item.pk, quantity=quantity) for item, quantity in lines],
        actor="sales",
        allow_backorder=True,
        confirmed_at=T0 + dt.timedelta(minutes=minutes),
    )


# The unit price of every line of the orders in the tests' events.
PRICE = Decimal("5.00")


def order_event(order_id: uuid.UUID, *lines: tuple[object, int], party: str = "customer_id") -> dict:
    """The data of a confirmed sales order (``party="vendor_id"``: of a received purchase order)."""
    return {
        "order_id": str(order_id),
        party: str(uuid.uuid4()),
        "total_amount": Decimal("10.00"),
        "items": [
            {"item_id": str(item.pk), "quantity": quantity, "unit_price": PRICE, "subtotal": PRICE * quantity}
            for item, quantity in lines
        ],
    }


def receipt_event(order_id: uuid.UUID, receipt_id: uuid.UUID, *lines: tuple[object, int], status: str) -> dict:
    """The data of one receipt of a purchase order (``purchase.order.received`` v2)."""
    return {
        "order_id": str(order_id),
        "vendor_id": str(uuid.uuid4()),
        "receipt_id": str(receipt_id),
        "status": status,
        "amount": PRICE * sum(quantity for _, quantity in lines),
        "items": [
            {"item_id": str(item.pk), "quantity": quantity, "unit_price": PRICE, "subtotal": PRICE * quantity}
            for item, quantity in lines
        ],
    }
