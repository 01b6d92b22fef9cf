"""What sales asks other services besides the item lookup: a customer, and is there stock for these lines?"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.exceptions import BadGateway
from order_documents.references import inventory_client, party_fetch, party_recheck

from .models import SalesOrderLine

AVAILABILITY_PATH = "/internal/stock/availability"
MAX_ASKED = 2**31 - 1


def customer_fetch(*, customer_id: uuid.UUID) -> dict:
    """Return the customer as contact_svc has it; unknown -> 400 naming ``customer_id``."""
    return party_fetch(path=f"/customers/{customer_id}", field="customer_id", kind="customer")


def customer_recheck(*, customer_id: uuid.UUID) -> None:
    """Refuse (409 naming ``customer_id``) to confirm for a customer deleted since the draft was made."""
    party_recheck(path=f"/customers/{customer_id}", field="customer_id", kind="customer")


@dataclass(frozen=True)
class Shortfall:
    item_id: uuid.UUID
    requested: int
    available: int


def stock_shortfalls(
    *, lines: Sequence[SalesOrderLine], also_wanted: Mapping[uuid.UUID, int] | None = None
) -> list[Shortfall]:
    """Return the items inventory cannot cover now (empty when all can), in one call.

    Lines of one item are asked for together: two lines of 3 need 6 on hand.
    ``also_wanted`` is what others claim of the items before these lines (orders
    inventory has not applied yet): a shortfall reports the lines' own ``requested``
    and what ``available`` is left for them.
    """
    wanted: dict[uuid.UUID, int] = {}
    for line in lines:
        wanted[line.item_id] = wanted.get(line.item_id, 0) + line.quantity
    claimed = also_wanted or {}
    # Inventory answers for at most MAX_ASKED of an item (more is a 400, which would be a 502 here), yet pending
    # orders can add up past it. More than a stock can hold is short anyway: asked for MAX_ASKED, an item inventory
    # does not call short holds exactly that much.
    asked = {item_id: quantity + claimed.get(item_id, 0) for item_id, quantity in wanted.items()}
    body = {"items": [{"item_id": str(item_id), "quantity": min(total, MAX_ASKED)} for item_id, total in asked.items()]}
    response = inventory_client().request("POST", AVAILABILITY_PATH, json=body)
    if response.status_code != 200:
        raise BadGateway(f"inventory_svc answered the availability check with {response.status_code}.")
    try:
        data = response.json()["data"]
        available = {uuid.UUID(str(row["item_id"])): int(row["available"]) for row in data["short"]}
        available |= {
            item_id: MAX_ASKED for item_id, total in asked.items() if total > MAX_ASKED and item_id not in available
        }
        return [
            Shortfall(item_id=item_id, requested=wanted[item_id], available=max(0, on_hand - claimed.get(item_id, 0)))
            for item_id, on_hand in available.items()
            if item_id in wanted
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("inventory_svc answered the availability check with something unreadable.") from exc
