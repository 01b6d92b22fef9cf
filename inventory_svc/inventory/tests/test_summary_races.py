"""The stock rows' summary figures under concurrent writers on real PostgreSQL: never stale.

An item's price, reorder level or activity changing while its stock moves must leave each
stock row's ``reorder_shortfall`` and ``value`` what they are recomputed from (check_stock_ledger).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from common.exceptions import InsufficientStock
from inventory.imports import item_import
from inventory.lines import StockLine
from inventory.models import Item, Stock
from inventory.selectors import stock_ledger_discrepancies, stock_summary_discrepancies
from inventory.services import item_update, stock_adjust, stock_issue_for_order

from .test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def test_item_updates_racing_stock_movements_leave_every_summary_figure_exact(postgresql, make_item):
    # given: four items around their reorder level
    items = [make_item(sku=f"RACE-{n}", stock=10, reorder_level=10, unit_price=Decimal("1.00")) for n in range(4)]
    rng = random.Random(25)

    def updates(seed: int):
        pick = random.Random(seed)
        for _ in range(15):
            item = pick.choice(items)
            data = pick.choice(
                [
                    {"unit_price": Decimal(pick.randint(0, 99999)) / 100},
                    {"reorder_level": pick.randint(0, 20)},
                    {"active": pick.random() < 0.5},
                    {"unit_price": Decimal("2.50"), "reorder_level": pick.randint(0, 20), "active": True},
                ]
            )
            item_update(item=Item.objects.get(pk=item.pk), data=data)

    def movements(seed: int):
        pick = random.Random(seed)
        for _ in range(15):
            chosen = pick.sample(items, 2)
            changes = {item.pk: pick.choice([-1, 1, 2]) for item in chosen}
            with contextlib.suppress(InsufficientStock):  # refused below zero: the figures are what is checked
                stock_adjust(changes=changes, actor="race")

    def orders(seed: int):
        pick = random.Random(seed)
        for _ in range(10):
            item = pick.choice(items)
            stock_issue_for_order(
                order_id=uuid.uuid4(), lines=[StockLine(item.pk, 1)], actor="sales", allow_backorder=True
            )

    def imports(seed: int):
        pick = random.Random(seed)
        for _ in range(5):
            item = pick.choice(items)
            row = f"{item.sku},{pick.randint(1, 900)}.25,{pick.randint(0, 20)},{pick.randint(0, 30)}"
            item_import(data=f"sku,unit_price,reorder_level,quantity\n{row}\n".encode(), actor="count")

    # when
    seeds = [rng.randint(0, 10**6) for _ in range(8)]
    tasks = [lambda s=seeds[0]: updates(s), lambda s=seeds[1]: updates(s)]
    tasks += [lambda s=seeds[2]: movements(s), lambda s=seeds[3]: movements(s)]
    tasks += [lambda s=seeds[4]: orders(s), lambda s=seeds[5]: imports(s)]
    _, errors = run_concurrently(tasks)

    # then
    assert errors == []
    assert stock_ledger_discrepancies() == []
    assert stock_summary_discrepancies() == []


def test_a_movement_waiting_for_a_price_change_values_its_stock_at_the_new_price(postgresql, make_item):
    # given: a price change that holds its locks (stock row, then item) until let go
    item = make_item(stock=10, unit_price=Decimal("1.00"))
    changed, let_go = threading.Event(), threading.Event()

    def price_change():
        with transaction.atomic():
            item_update(item=Item.objects.get(pk=item.pk), data={"unit_price": Decimal("3.00")})
            changed.set()
            let_go.wait(timeout=10)

    def movement():
        changed.wait(timeout=10)
        stock_adjust(changes={item.pk: 1}, actor="count")

    # when: the movement waits for the stock row's lock, then the price change commits
    def release_once_the_movement_waits():
        changed.wait(timeout=10)
        while not _someone_waits_for_a_lock():
            time.sleep(0.01)
        let_go.set()

    _, errors = run_concurrently([price_change, movement, release_once_the_movement_waits])

    # then: the movement's row is worth 11 units at the new price
    assert errors == []
    assert Stock.objects.get(item_id=item.pk).value == Decimal("33.00")
    assert stock_summary_discrepancies() == []


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0
