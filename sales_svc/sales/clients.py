"""What sales asks other services besides the item lookup: a customer, and is there stock for these lines?"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from common.exceptions import BadGateway
from order_documents.references import inventory_client, party_fetch

from .models import SalesOrderLine

AVAILABILITY_PATH = "/internal/stock/availability"


def customer_fetch(*, customer_id: uuid.UUID) -> dict:
    """Return the customer as contact_svc has it; unknown -> 400 naming ``customer_id``."""
    return party_fetch(path=f"/customers/{customer_id}", field="customer_id", kind="customer")


@dataclass(frozen=True)
class Shortfall:
    item_id: uuid.UUID
    requested: int
    available: int


def stock_shortfalls(*, lines: Sequence[SalesOrderLine]) -> list[Shortfall]:
    """Return the items inventory cannot cover now (empty when all can), in one call.

    Lines of one item are asked for together: two lines of 3 need 6 on hand.
    """
    wanted: dict[uuid.UUID, int] = {}
    for line in lines:
        wanted[line.item_id] = wanted.get(line.item_id, 0) + line.quantity
    body = {"items": [{"item_id": str(item_id), "quantity": quantity} for item_id, quantity in wanted.items()]}
    response = inventory_client().request("POST", AVAILABILITY_PATH, json=body)
    if response.status_code != 200:
        raise BadGateway(f"inventory_svc answered the availability check with {response.status_code}.")
    try:
        data = response.json()["data"]
        if data["available"]:
            return []
        return [
            Shortfall(
                item_id=uuid.UUID(str(row["item_id"])), requested=int(row["requested"]), available=int(row["available"])
            )
            for row in data["short"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("inventory_svc answered the availability check with something unreadable.") from exc
