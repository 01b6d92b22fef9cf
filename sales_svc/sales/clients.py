"""What sales asks inventory besides the item lookup: is there stock for these lines?"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from common.exceptions import BadGateway
from common.orders.references import inventory_client

from .models import SalesOrderLine

AVAILABILITY_PATH = "/internal/stock/availability"


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
