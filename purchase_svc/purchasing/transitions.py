"""The purchase order's state machine, as an explicit table (CONTRACT §5).

    Draft ──receive──▶ Received ──pay──▶ Paid
      │
      └──cancel──▶ Cancelled

Anything else is a 409 naming the current status.
"""

from __future__ import annotations

from order_documents.machine import Transition

from .models import PurchaseOrder

Status = PurchaseOrder.Status

RECEIVE = Transition("receive", {Status.DRAFT}, Status.RECEIVED, stamp="received_at")
PAY = Transition("pay", {Status.RECEIVED}, Status.PAID, stamp="paid_at")
CANCEL = Transition("cancel", {Status.DRAFT}, Status.CANCELLED, stamp="cancelled_at")

# Lines may be replaced only while the order is a draft.
EDITABLE = frozenset({Status.DRAFT})
