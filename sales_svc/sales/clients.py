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
class PendingClaim:
    """What one order this service confirmed, and has not heard back about, wants of one item."""

    order_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class Shortfall:
    item_id: uuid.UUID
    requested: int
    available: int


@dataclass(frozen=True)
class StockAnswer:
    """Inventory's answer for an order's lines: what it cannot cover now, and which items it no longer has."""

    shortfalls: list[Shortfall]
    # The items inventory does not have (deleted since the draft), short too; None from an inventory of the
    # previous release, which does not name them (a rolling upgrade: docs/upgrading.md).
    unknown: frozenset[uuid.UUID] | None


def stock_availability(*, lines: Sequence[SalesOrderLine], pending: Sequence[PendingClaim] = ()) -> StockAnswer:
    """Ask inventory, in one call, which items of ``lines`` it cannot cover now, and which it no longer has.

    Lines of one item are asked for together: two lines of 3 need 6 on hand. ``pending``
    are the lines of the orders this service confirmed and has not heard back about:
    inventory counts those it has not decided yet against its stock, and not the ones it
    has (their stock has moved already), in one snapshot. A shortfall reports the lines'
    own ``requested`` and what ``available`` is left for them. An answer that is not the
    contract's (a field missing or of another type, an item nobody asked about) is a 502.
    """
    wanted: dict[uuid.UUID, int] = {}
    for line in lines:
        wanted[line.item_id] = wanted.get(line.item_id, 0) + line.quantity
    # Inventory answers for at most MAX_ASKED of an item a line (more is a 400, which would be a 502 here). An
    # order's lines cannot add up past it today (order_documents: 100 lines of at most 1,000,000, so 10**8 an
    # item), nor can one pending order's: the clamps guard a rise of those limits. More than a stock can hold is
    # short anyway: asked for MAX_ASKED, an item inventory does not call short has exactly that much left.
    body = {
        "items": [{"item_id": str(item_id), "quantity": min(total, MAX_ASKED)} for item_id, total in wanted.items()],
        "pending": [
            {"order_id": str(claim.order_id), "item_id": str(claim.item_id), "quantity": min(claim.quantity, MAX_ASKED)}
            for claim in pending
        ],
    }
    response = inventory_client().request("POST", AVAILABILITY_PATH, json=body)
    if response.status_code != 200:
        raise BadGateway(f"inventory_svc answered the availability check with {response.status_code}.")
    try:
        data = response.json()["data"]
        available = {_asked_item(row["item_id"], wanted): int(row["available"]) for row in _listed(data["short"])}
        unknown = None
        if "unknown" in data:
            unknown = frozenset(_asked_item(item_id, wanted) for item_id in _listed(data["unknown"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("inventory_svc answered the availability check with something unreadable.") from exc
    available |= {
        item_id: MAX_ASKED for item_id, total in wanted.items() if total > MAX_ASKED and item_id not in available
    }
    shortfalls = [
        Shortfall(item_id=item_id, requested=wanted[item_id], available=left) for item_id, left in available.items()
    ]
    return StockAnswer(shortfalls=shortfalls, unknown=unknown)


def _listed(value) -> list:
    if not isinstance(value, list):
        raise TypeError(f"a list was expected, not {type(value).__name__}")
    return value


def _asked_item(value, wanted: Mapping[uuid.UUID, int]) -> uuid.UUID:
    """The item id ``value`` names, one of ``wanted``: an answer about another item is not one to act on."""
    if not isinstance(value, str):
        raise TypeError(f"an item id is a string, not {type(value).__name__}")
    item_id = uuid.UUID(value)
    if item_id not in wanted:
        raise ValueError(f"item {item_id} was not asked about")
    return item_id
