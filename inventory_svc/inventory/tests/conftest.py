"""Fixtures of the inventory tests: clients per role, items with stock put there through the service."""

from __future__ import annotations

import json

import pytest

from common.events.models import OutboxEvent

# sales_svc and purchase_svc, asked before an item is deleted (common.uses): faked for every test.
from erp_testkit.orders import fake_services, order_services  # noqa: F401
from inventory.models import Item, Stock, StockMovement
from inventory.services import stock_adjust

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
