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

# Inventory's answers, each allowed only from the stock status it settles.
STOCK_ANSWERS: dict[str, frozenset[str]] = {
    SalesOrder.StockStatus.ISSUED: frozenset({SalesOrder.StockStatus.PENDING}),
    SalesOrder.StockStatus.SHORT: frozenset({SalesOrder.StockStatus.PENDING}),
    SalesOrder.StockStatus.RETURNED: frozenset({SalesOrder.StockStatus.ISSUED}),
}
