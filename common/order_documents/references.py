"""Check an order's references with the services that own them, as this service.

The party is read from contact_svc (the caller names the path, ``/customers/{id}``) and
every item of an order from inventory_svc in ONE call (``POST /internal/items/lookup``),
both with the service token of :class:`common.http.ServiceClient`, never the user's. An
unknown or archived (``active: false``) id is a :class:`~common.exceptions.ValidationFailed`
naming the field (``customer_id``, ``items.1.item_id``); a dependency that is down, slow or
answers nonsense raises the client's 503/504/502 before anything is written.

An order already made keeps its archived references (it still completes), but before it
moves stock (a sales confirmation, a purchase receipt) :func:`items_recheck` asks inventory
whether each item still exists, and :func:`party_recheck` asks contact_svc whether its party
does: one deleted in a race with the order (the owner asked before the order was committed,
``common.uses``) is a 409 then, never a dead-lettered event after the order was paid, nor
goods shipped to a customer nobody has any more (issue 26).

The back office's order entry searches the owning services too (:func:`party_search`,
:func:`items_search`): their lists, with this service's token, which they accept from the
order services on the list alone; the admin asks only for a staff member whose role may
read what is searched (``order_documents.forms``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from common.exceptions import BadGateway, Conflict, ValidationFailed
from common.filters import SearchFilter
from common.http import ServiceClient
from common.money import quantize_money

from .lines import ItemRef, LineRequest

ITEMS_LOOKUP_PATH = "/internal/items/lookup"
ITEMS_LIST_PATH = "/items"
# How many matches a search answers: a person picks among the first few and types more to narrow it.
SEARCH_LIMIT = 20
# What a person could mean by a search term, at most (the lists search names of 255 characters).
SEARCH_TERM_MAX = 100


@dataclass(frozen=True)
class PartyChoice:
    """A contact a new order may name, as the search shows it."""

    id: uuid.UUID
    name: str
    email: str


@dataclass(frozen=True)
class ItemChoice:
    """An item a new line may name, as the search shows it: with its stock on hand and price now."""

    id: uuid.UUID
    sku: str
    name: str
    unit_price: Decimal
    quantity: int


def contact_client() -> ServiceClient:
    return ServiceClient(settings.ERP["CONTACT_SERVICE_URL"])


def inventory_client() -> ServiceClient:
    return ServiceClient(settings.ERP["INVENTORY_SERVICE_URL"])


def party_fetch(*, path: str, field: str, kind: str) -> dict:
    """Return the contact at contact_svc's ``path``; unknown -> 400 naming ``field``.

    ``party_fetch(path=f"/customers/{customer_id}", field="customer_id", kind="customer")``.
    """
    data = contact_client().get_json(path)
    if data is None:
        raise ValidationFailed({field: [f"Unknown {kind}."]})
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise BadGateway(f"contact_svc answered a {kind} without a name.")
    if data.get("active") is False:
        raise ValidationFailed({field: [f"Archived {kind}."]})
    return data


def party_recheck(*, path: str, field: str, kind: str) -> None:
    """Refuse (409 naming ``field``) to move stock for an order whose party contact_svc no longer has.

    Called before a confirmation or a receipt opens its transaction, beside :func:`items_recheck`.
    An archived party passes: its orders still complete.
    """
    if contact_client().get_json(path) is None:
        raise Conflict(
            f"The order's {kind} no longer exists in contact_svc; cancel the order.",
            details=[{"field": field, "message": f"contact_svc no longer has this {kind}."}],
        )


def items_fetch(*, lines: Sequence[LineRequest]) -> dict[uuid.UUID, ItemRef]:
    """Return the items of new ``lines`` by id, in one call; unknown or archived -> 400 naming ``items.<n>.item_id``."""
    items = items_lookup(ids=[line.item_id for line in lines])
    refused = {
        f"items.{index}.item_id": ["Unknown item." if line.item_id not in items else "Archived item."]
        for index, line in enumerate(lines)
        if line.item_id not in items or not items[line.item_id].active
    }
    if refused:
        raise ValidationFailed(refused)
    return items


def items_recheck(*, item_ids: Sequence[uuid.UUID | None]) -> None:
    """Refuse (409 naming ``items.<n>.item_id``) to move stock for items inventory no longer has.

    Called before a confirmation or a receipt opens its transaction; ``item_ids`` are in the
    order the caller names them (the order's lines, or a receipt's entries), None for an
    entry not to ask about (the order refuses it itself). Archived items pass.
    """
    asked = [item_id for item_id in item_ids if item_id is not None]
    if not asked:  # an order without lines (or none at all): nothing to ask, the caller decides
        return
    items = items_lookup(ids=asked)
    items_gone_refuse(item_ids=item_ids, gone={item_id for item_id in asked if item_id not in items})


def items_gone_refuse(*, item_ids: Sequence[uuid.UUID | None], gone: Collection[uuid.UUID]) -> None:
    """Refuse (409 naming ``items.<n>.item_id`` of ``item_ids``) the items of ``gone``, which inventory no longer has.

    :func:`items_recheck`'s answer, and sales' when inventory's availability check names them.
    """
    details = [
        {"field": f"items.{index}.item_id", "message": "Inventory no longer has this item."}
        for index, item_id in enumerate(item_ids)
        if item_id is not None and item_id in gone
    ]
    if details:
        raise Conflict("An item of the order no longer exists in inventory; cancel the order.", details=details)


def item_fetch(*, item_id: uuid.UUID, field: str = "item_id") -> ItemRef:
    """Return one item a new record may name; unknown or archived -> 400 naming ``field`` (as :func:`items_fetch`)."""
    item = items_lookup(ids=[item_id]).get(item_id)
    if item is None or not item.active:
        raise ValidationFailed({field: ["Unknown item." if item is None else "Archived item."]})
    return item


def items_lookup(*, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ItemRef]:
    """Return the items of ``ids`` inventory knows, by id, in one call (an unknown id is absent)."""
    wanted = list(dict.fromkeys(str(item_id) for item_id in ids))
    response = inventory_client().request("POST", ITEMS_LOOKUP_PATH, json={"ids": wanted})
    if response.status_code != 200:
        # The body is ours and valid: any refusal is inventory's problem, not the caller's.
        raise BadGateway(f"inventory_svc answered the item lookup with {response.status_code}.")
    return _items_from(response)


def party_search(*, path: str, term: str) -> list[PartyChoice]:
    """Return the active contacts at contact_svc's list ``path`` (``/customers``) whose name or email has ``term``.

    At most :data:`SEARCH_LIMIT`, by name; archived ones are left out (a new order may not name them).
    """
    data = contact_client().get_json(path, params=_search_params(term, ordering="name"))
    try:
        return [
            PartyChoice(id=uuid.UUID(str(row["id"])), name=str(row["name"]), email=str(row["email"])) for row in data
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("contact_svc answered the search with something unreadable.") from exc


def party_names(*, path: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Return the names of the contacts of ``ids`` contact_svc knows, by id (its ``<path>/lookup``)."""
    wanted = ",".join(dict.fromkeys(str(party_id) for party_id in ids))
    data = contact_client().get_json(f"{path}/lookup", params={"ids": wanted})
    try:
        return {uuid.UUID(str(row["id"])): str(row["name"]) for row in data or ()}
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("contact_svc answered the lookup with something unreadable.") from exc


def items_search(*, term: str) -> list[ItemChoice]:
    """Return the active items whose SKU or name has ``term``, with their stock on hand: at most 20, by SKU."""
    response = inventory_client().request("GET", ITEMS_LIST_PATH, params=_search_params(term, ordering="sku"))
    if response.status_code != 200:
        raise BadGateway(f"inventory_svc answered the item search with {response.status_code}.")
    try:
        return [
            ItemChoice(
                id=uuid.UUID(str(row["id"])),
                sku=str(row["sku"]),
                name=str(row["name"]),
                unit_price=quantize_money(row["unit_price"]),
                quantity=int(row["quantity"]),
            )
            for row in response.json(parse_float=Decimal)["data"]
        ]
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise BadGateway("inventory_svc answered the item search with something unreadable.") from exc


def _search_params(term: str, *, ordering: str) -> dict[str, str | int]:
    return {"search": search_words(term), "active": "true", "limit": SEARCH_LIMIT, "ordering": ordering}


def search_words(term: str) -> str:
    """``term`` as the lists' search accepts it: no NUL, its first ``SearchFilter.max_terms`` words, commas as spaces.

    The lists refuse more words, or a NUL, with a 400: a person typing a long phrase (or a
    hostile page) would be told the service "did not answer" instead of seeing matches.
    """
    words = term[:SEARCH_TERM_MAX].replace("\x00", " ").replace(",", " ").split()[: SearchFilter.max_terms]
    return " ".join(words)


def _items_from(response) -> dict[uuid.UUID, ItemRef]:
    try:
        return {
            uuid.UUID(str(row["id"])): ItemRef(
                id=uuid.UUID(str(row["id"])),
                sku=str(row["sku"]),
                name=str(row["name"]),
                unit_price=quantize_money(row["unit_price"]),
                active=row.get("active", True) is not False,
            )
            # parse_float: a price is read as the exact decimal it was written as.
            for row in response.json(parse_float=Decimal)["data"]
        }
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise BadGateway("inventory_svc answered the item lookup with something unreadable.") from exc
