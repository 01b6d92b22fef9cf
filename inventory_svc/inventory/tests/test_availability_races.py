"""The availability check against an issue committing between its reads, on real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest

from erp_testkit.concurrency import Worker
from inventory import selectors
from inventory.lines import PendingLine, StockLine
from inventory.models import SalesOrderIssue
from inventory.services import stock_issue_for_order

pytestmark = pytest.mark.django_db(transaction=True)


def _held_after_the_decisions(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make the check stop after it read the decisions, before it reads the stock, until released."""
    reached, release = threading.Event(), threading.Event()

    class _Decisions:
        def filter(self, **kwargs):
            rows = SalesOrderIssue.objects.filter(**kwargs)

            class _Rows:
                def values_list(self, *args, **options):
                    found = list(rows.values_list(*args, **options))
                    reached.set()
                    assert release.wait(10), "never released"
                    return found

            return _Rows()

    monkeypatch.setattr(selectors, "SalesOrderIssue", type("SalesOrderIssue", (), {"objects": _Decisions()}))
    return reached, release


def test_an_order_issued_between_the_checks_reads_is_counted_once(postgresql, make_item, monkeypatch):
    # given: 10 on hand, and an order of 4 sales sends as pending that inventory has not decided yet
    item = make_item(stock=10)
    order = uuid.uuid4()
    reached, release = _held_after_the_decisions(monkeypatch)
    check = Worker(
        lambda: selectors.stock_availability(
            lines=[StockLine(item.pk, 7)], pending=[PendingLine(order_id=order, item_id=item.pk, quantity=4)]
        )
    )

    # when: the order is issued (and committed) after the check read the decisions, before it read the stock
    check.start()
    assert reached.wait(10)
    stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, 4)], actor="sales")
    release.set()
    check.join(10)

    # then: 6 left for the 7 asked (counted once, in the pending claim or the stock, never in both)
    assert check.error is None, check.error
    assert [(line.requested, line.available) for line in check.result.short] == [(7, 6)]
