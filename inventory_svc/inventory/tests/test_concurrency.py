"""Concurrent writers on real PostgreSQL: no oversell, no deadlock, the ledger always exact.

Each thread has its own database connection (closed at its end), and a barrier lines
them up so they really do meet at the locks.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from common.exceptions import Conflict
from inventory.imports import item_import
from inventory.lines import StockLine
from inventory.models import IssueOutcome, Item, MovementReason, SalesOrderIssue, Stock, StockMovement
from inventory.selectors import backorder_discrepancies, stock_ledger_discrepancies
from inventory.services import (
    item_create,
    stock_adjust,
    stock_issue_for_order,
    stock_receive_for_order,
    stock_receive_for_receipt,
    stock_return_for_order,
)

from .conftest import ledger_total, on_hand

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(tasks: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Start every task at once on its own thread and connection; return results and errors."""
    barrier = threading.Barrier(len(tasks))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(task):
        try:
            barrier.wait(timeout=10)
            result = task()
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a writer hung (a lock never released)"
    return results, errors


def test_twenty_one_unit_orders_against_ten_issue_exactly_ten(postgresql, make_item):
    # given
    item = make_item(stock=10)
    orders = [uuid.uuid4() for _ in range(20)]

    # when
    results, errors = run_concurrently(
        [
            lambda order=order: stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 1)], actor="sales")
            for order in orders
        ]
    )

    # then
    assert errors == []
    assert sorted(results) == sorted([IssueOutcome.ISSUED] * 10 + [IssueOutcome.SHORT] * 10)
    assert on_hand(item) == 0 == ledger_total(item)
    assert StockMovement.objects.filter(reason=MovementReason.SALES_ISSUE).count() == 10
    assert SalesOrderIssue.objects.filter(outcome=IssueOutcome.ISSUED).count() == 10
    assert stock_ledger_discrepancies() == []


def test_one_order_delivered_twice_at_once_is_issued_once(postgresql, make_item):
    # given
    item = make_item(stock=5)
    order = uuid.uuid4()
    issue = lambda: stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 2)], actor="sales")  # noqa: E731

    # when
    results, errors = run_concurrently([issue, issue, issue])

    # then
    assert errors == []
    assert sorted(results, key=str) == sorted([IssueOutcome.ISSUED, None, None], key=str)
    assert on_hand(item) == 3 == ledger_total(item)


def test_one_cancellation_delivered_twice_at_once_gives_back_once(postgresql, make_item):
    # given
    item = make_item(stock=5)
    order = uuid.uuid4()
    stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 2)], actor="sales")

    # when
    results, errors = run_concurrently([lambda: stock_return_for_order(order_id=order, actor="sales")] * 3)

    # then
    assert errors == []
    assert sorted(len(movements) for movements in results) == [0, 0, 1]
    assert on_hand(item) == 5 == ledger_total(item)


def test_two_concurrent_creates_of_one_sku_make_one_item(postgresql):
    # given
    create = lambda sku: lambda: item_create(sku=sku, name="Race", unit_price=Decimal("1.00"))  # noqa: E731

    # when
    results, errors = run_concurrently([create("race-1"), create(" RACE-1 ")])

    # then
    assert len(results) == 1
    assert [type(error) for error in errors] == [Conflict]
    assert list(Item.objects.values_list("sku", flat=True)) == ["RACE-1"]


def test_adjustments_receipts_and_issues_on_overlapping_items_never_deadlock(postgresql, make_item):
    # given: three items, and writers that name them in different orders
    items = [make_item(stock=50) for _ in range(3)]
    rng = random.Random(7)
    expected = {item.pk: 50 for item in items}
    tasks = []
    for index in range(24):
        chosen = rng.sample(items, k=rng.choice([2, 3]))  # a different order each time
        kind = index % 3
        if kind == 0:
            changes = {item.pk: rng.choice([-2, -1, 1, 3]) for item in chosen}
            tasks.append(lambda changes=changes: stock_adjust(changes=changes, actor="im"))
        elif kind == 1:
            lines = [StockLine(item.pk, rng.randint(1, 4)) for item in chosen]
            tasks.append(lambda lines=lines: stock_receive_for_order(order_id=uuid.uuid4(), lines=lines, actor="p"))
        else:
            lines = [StockLine(item.pk, rng.randint(1, 3)) for item in chosen]
            tasks.append(lambda lines=lines: stock_issue_for_order(order_id=uuid.uuid4(), lines=lines, actor="s"))
        for item in chosen:
            sign = {0: 1, 1: 1, 2: -1}[kind]
            if kind == 0:
                expected[item.pk] += changes[item.pk]
            else:
                expected[item.pk] += sign * next(line.quantity for line in lines if line.item_id == item.pk)

    # when
    _, errors = run_concurrently(tasks)

    # then: no deadlock (PostgreSQL would have raised in one of them), every writer applied
    assert errors == []
    assert {item.pk: on_hand(item) for item in items} == expected
    assert {item.pk: ledger_total(item) for item in items} == expected
    assert stock_ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_one_receipt_applied_by_five_writers_at_once_moves_stock_once(postgresql, make_item):
    # given
    item = make_item(stock=3)
    order, receipt = uuid.uuid4(), uuid.uuid4()

    # when
    results, errors = run_concurrently(
        [
            lambda: stock_receive_for_receipt(
                order_id=order, receipt_id=receipt, lines=[StockLine(item.pk, 7)], actor="purchase"
            )
            for _ in range(5)
        ]
    )

    # then
    assert errors == []
    assert sorted(len(movements) for movements in results) == [0, 0, 0, 0, 1]
    assert on_hand(item) == 10 == ledger_total(item)
    assert stock_ledger_discrepancies() == []


def test_two_imports_creating_the_same_skus_in_opposite_orders_never_deadlock(postgresql):
    # given: two files of the same 1,000 new SKUs, one the other upside down (in one INSERT each, they
    # would meet in the middle, each holding the index entries the other waits for)
    skus = [f"RACE-{n:04}" for n in range(1000)]
    files = [("sku,name\n" + "".join(f"{sku},Race\n" for sku in order)).encode() for order in (skus, skus[::-1])]

    # when
    results, errors = run_concurrently([lambda data=data: item_import(data=data, actor="import") for data in files])

    # then: one creates them all, the other is the 409 of a duplicate SKU, not a deadlock (a 503)
    assert [result.created for result in results] == [1000]
    assert [type(error) for error in errors] == [Conflict]
    assert Item.objects.count() == 1000


def test_an_import_setting_stock_while_orders_wait_for_it_keeps_the_ledger_exact(postgresql, make_item):
    # given: an item that two confirmed orders wait for (3 and 4 units), stock 0
    item = make_item()
    waiting = [uuid.uuid4(), uuid.uuid4()]
    for order_id, quantity in zip(waiting, (3, 4), strict=True):
        stock_issue_for_order(
            order_id=order_id, lines=[StockLine(item.pk, quantity)], actor="sales", allow_backorder=True
        )
    confirming = [uuid.uuid4() for _ in range(4)]
    data = f"sku,quantity\n{item.sku},10\n".encode()

    # when: a stock count of 10 races four more one-unit orders that may wait too
    tasks = [lambda: item_import(data=data, actor="count")]
    tasks += [
        lambda order_id=order_id: stock_issue_for_order(
            order_id=order_id, lines=[StockLine(item.pk, 1)], actor="sales", allow_backorder=True
        )
        for order_id in confirming
    ]
    _, errors = run_concurrently(tasks)

    # then: the count found nothing on hand (every order before it waited) and moved stock once, by 10;
    # the 10 went to the orders (11 units in all), one unit still waits; stock, backorders and ledger agree
    assert errors == []
    count = StockMovement.objects.get(reason=MovementReason.ADJUSTMENT)
    assert (count.change, count.quantity_after) == (10, 10)
    assert on_hand(item) == ledger_total(item) == 0
    assert Stock.objects.get(item_id=item.pk).backordered == 1
    assert stock_ledger_discrepancies() == []
    assert backorder_discrepancies() == []
