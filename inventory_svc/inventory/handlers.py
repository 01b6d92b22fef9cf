"""The events inventory_svc consumes, each handed to one service (CONTRACT §6).

``manage.py consume_events`` runs a handler in one transaction with the inbox record
of its event id, so a redelivered event is applied once; the services are idempotent
by order as well (the ledger, and the decision recorded per sales order), so the same
order under a second event id changes nothing either.
"""

from __future__ import annotations

import uuid
from typing import Any

from common.events import Event, PoisonMessage, registry

from .lines import StockLine
from .services import stock_issue_for_order, stock_receive_for_order, stock_return_for_order


def handle_sales_order_confirmed(event: Event) -> None:
    stock_issue_for_order(order_id=_uuid(event.data["order_id"]), lines=_lines(event.data), actor=_actor(event))


def handle_purchase_order_received(event: Event) -> None:
    stock_receive_for_order(order_id=_uuid(event.data["order_id"]), lines=_lines(event.data), actor=_actor(event))


def handle_sales_order_cancelled(event: Event) -> None:
    stock_return_for_order(order_id=_uuid(event.data["order_id"]), actor=_actor(event))


HANDLERS = {
    registry.SALES_ORDER_CONFIRMED: handle_sales_order_confirmed,
    registry.PURCHASE_ORDER_RECEIVED: handle_purchase_order_received,
    registry.SALES_ORDER_CANCELLED: handle_sales_order_cancelled,
}


def _actor(event: Event) -> str:
    return f"{event.producer} (event {event.event_id})"


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise PoisonMessage(f"not a UUID: {value!r}") from None


def _lines(data: dict[str, Any]) -> list[StockLine]:
    """Read the order lines, refusing anything no retry could fix."""
    items = data["items"]
    if not isinstance(items, list) or not items:
        raise PoisonMessage("items must be a non-empty list")
    lines = []
    for line in items:
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise PoisonMessage(f"a line's quantity must be a positive integer: {line!r}")
        lines.append(StockLine(item_id=_uuid(line.get("item_id")), quantity=quantity))
    return lines
