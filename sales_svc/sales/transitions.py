"""The sales order's state machine, as an explicit table (contract §5).

    Draft ──confirm──▶ Confirmed ──pay──▶ Paid
      │                   │
      └──cancel──▶ Cancelled ◀──cancel── (once stock_status is settled)

Anything else is a 409 naming the current status.
"""

from __future__ import annotations

from order_documents.machine import Transition

from .models import SalesOrder

Status = SalesOrder.Status

CONFIRM = Transition("confirm", {Status.DRAFT}, Status.CONFIRMED, stamp="confirmed_at")
PAY = Transition("pay", {Status.CONFIRMED}, Status.PAID, stamp="paid_at")
CANCEL = Transition("cancel", {Status.DRAFT, Status.CONFIRMED}, Status.CANCELLED, stamp="cancelled_at")

# Lines may be replaced only while the order is a draft.
EDITABLE = frozenset({Status.DRAFT})

StockStatus = SalesOrder.StockStatus

# Inventory's answers, each allowed only from the stock status it settles. A backordered
# order's figures (``inventory.stock.backordered`` / ``.filled``) may also replace older
# ones of the same order while it waits, newest version first; the give-back is the last word.
STOCK_ANSWERS: dict[str, frozenset[str]] = {
    StockStatus.ISSUED: frozenset({StockStatus.PENDING}),
    StockStatus.SHORT: frozenset({StockStatus.PENDING}),
    StockStatus.RETURNED: frozenset({StockStatus.ISSUED, StockStatus.BACKORDERED}),
}
STOCK_PROGRESS_FROM = frozenset({StockStatus.PENDING, StockStatus.BACKORDERED})

# Stock statuses under which a confirmed order may be cancelled (inventory has answered),
# and those whose cancellation inventory must hear of (something issued or waiting).
CANCELLABLE_STOCK = frozenset({StockStatus.ISSUED, StockStatus.SHORT, StockStatus.BACKORDERED})
GIVEN_BACK_ON_CANCEL = frozenset({StockStatus.ISSUED, StockStatus.BACKORDERED})
