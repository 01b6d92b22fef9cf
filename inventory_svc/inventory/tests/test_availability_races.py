"""The availability check against issues committing while it runs, on real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest

from erp_testkit.concurrency import Worker
from inventory import selectors
from inventory.lines import PendingLine, StockLine
from inventory.services import stock_issue_for_order

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS, EACH, ON_HAND = 40, 4, 1_000


def test_orders_issued_while_checks_run_are_each_counted_once(postgresql, make_item):
    # given: 1,000 on hand, and 40 orders of 4 that sales confirmed and sends as pending, none decided yet
    item = make_item(stock=ON_HAND)
    orders = [uuid.uuid4() for _ in range(ORDERS)]
    pending = [PendingLine(order_id=order, item_id=item.pk, quantity=EACH) for order in orders]
    issuing_done = threading.Event()

    def issue_one_by_one():
        try:
            for order in orders:
                stock_issue_for_order(order_id=order, lines=[StockLine(item.pk, EACH)], actor="sales")
        finally:
            issuing_done.set()

    def check_until_issued() -> list[int]:
        seen = []
        while not issuing_done.is_set():
            answer = selectors.stock_availability(lines=[StockLine(item.pk, ON_HAND)], pending=pending)
            seen.append(answer.short[0].available)
        return seen

    # when: inventory issues them one by one (a commit each) while the check is asked again and again
    issuer, checker = Worker(issue_one_by_one), Worker(check_until_issued)
    checker.start()
    issuer.start()
    issuer.join(60)
    checker.join(60)

    # then: every answer counted each order once, in the stock it took or in its pending claim, never in both
    # (fewer than 840 available) nor in neither (more): a check whose reads straddled an issue's commit would
    assert not issuer.is_alive() and not checker.is_alive(), "still running after 60 s"
    assert issuer.error is None and checker.error is None, (issuer.error, checker.error)
    assert checker.result and set(checker.result) == {ON_HAND - ORDERS * EACH}
