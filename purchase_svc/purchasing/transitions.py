"""The purchase order's state machine, as an explicit table (contract §5).

    Draft ──receipt──▶ PartiallyReceived ──receipt──▶ Received ──pay──▶ Paid
      │  └────────────receipt / receive─────────────▶ ▲
      │                PartiallyReceived ──close──────┘ (closed_short)
      └──cancel──▶ Cancelled

A receipt moves the order to ``PartiallyReceived`` or, once every line is complete, to
``Received`` (which of the two follows from the lines, so each is a transition of its
own); ``receive`` is one receipt of everything still open. Anything else is a 409
naming the current status.
"""

from __future__ import annotations

from order_documents.machine import Transition

from .models import PurchaseOrder

Status = PurchaseOrder.Status

# Where goods may still arrive.
RECEIVABLE = frozenset({Status.DRAFT, Status.PARTIALLY_RECEIVED})

RECEIVE_PART = Transition("receipt", RECEIVABLE, Status.PARTIALLY_RECEIVED)
RECEIVE = Transition("receive", RECEIVABLE, Status.RECEIVED, stamp="received_at")
CLOSE = Transition("close", {Status.PARTIALLY_RECEIVED}, Status.RECEIVED, stamp="received_at")
PAY = Transition("pay", {Status.RECEIVED}, Status.PAID, stamp="paid_at")
CANCEL = Transition("cancel", {Status.DRAFT}, Status.CANCELLED, stamp="cancelled_at")

# Lines may be replaced only while the order is a draft (no receipt yet: a receipt leaves Draft).
EDITABLE = frozenset({Status.DRAFT})
