"""What the back office's order entry page holds: the party and the lines, picked by searching their services.

:class:`OrderEntry` is the ``entry`` of an order admin (:class:`common.admin_entry.ServiceEntryAdminMixin`,
which saves it through the service's API serializer and service): a header with the party,
picked with an autocomplete searching contact_svc, and the service's own options; lines of an
item, picked with an autocomplete searching inventory_svc (SKU or name, showing the stock on
hand and the unit price), a quantity and an optional unit price (blank: the item's). Searching
takes the permissions of the owning service's list (``contacts.read``; ``items.read`` and
``stock.read``). A draft keeps its party: the API's ``PUT`` replaces lines only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms

from common.admin_autocomplete import Choice, ServiceAutocomplete
from common.admin_entry import EntryForms, EntryRowForm, Search

from .lines import ItemRef
from .models import MAX_LINES, OrderDocument
from .references import ItemChoice, PartyChoice, items_lookup, items_search, party_names, party_search

# Blank lines offered below the filled ones: more are had by saving the draft and reopening it.
BLANK_LINES = 5
LINES_PREFIX = "lines"
# The page's script, after django.jQuery and the autocompletes it listens to (Media keeps this order when merging).
ENTRY_MEDIA = forms.Media(js=["admin/js/jquery.init.js", "admin/js/autocomplete.js", "common/order_entry.js"])


@dataclass(frozen=True)
class Party:
    """The order's party: ``Party(field="customer_id", path="/customers", kind="customer")``."""

    field: str
    path: str
    kind: str


def party_choice(party: PartyChoice) -> Choice:
    return Choice(id=str(party.id), text=f"{party.name} <{party.email}>")


def item_choice(item: ItemChoice | ItemRef) -> Choice:
    """An item as a result: ``SKU name``, and (from a search) its stock on hand and price, for the page to show."""
    data = {"unit_price": str(item.unit_price), "sku": item.sku}
    text = f"{item.sku} {item.name}"
    if isinstance(item, ItemChoice):
        data["on_hand"] = str(item.quantity)
        text += f" · {item.quantity} on hand · {item.unit_price}"
    return Choice(id=str(item.id), text=text, data=data)


def _uuids(values: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue  # not an id at all: shown as typed, the serializer names it
    return found


def item_labels(ids: list[str]) -> dict[str, Choice]:
    """Name the chosen items (a page shown again): inventory's lookup, archived ones included."""
    wanted = _uuids(ids)
    found = items_lookup(ids=wanted) if wanted else {}
    return {str(item_id): item_choice(item) for item_id, item in found.items()}


class LineForm(EntryRowForm):
    item_id = forms.CharField(label="item", required=False)
    quantity = forms.CharField(required=False, widget=forms.NumberInput(attrs={"min": 1, "class": "vIntegerField"}))
    unit_price = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "the item's price", "class": "vTextField", "size": 10}),
    )

    def __init__(self, *args, item_widget: forms.Widget, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item_id"].widget = item_widget


LineFormSet = forms.formset_factory(
    LineForm, extra=0, max_num=MAX_LINES + BLANK_LINES, absolute_max=MAX_LINES + BLANK_LINES
)


@dataclass(frozen=True)
class OrderEntry:
    """An order admin's ``entry``: its ``party``, the ``statuses`` whose lines may change, its header ``options``.

    ``options`` returns new form fields for the service's own header fields (sales:
    ``allow_backorder``), named as in the API's body and on the order.
    """

    party: Party
    statuses: frozenset[str]
    options: Callable[[], dict[str, forms.Field]] = dict
    template: str = "admin/order_entry.html"
    media: forms.Media = ENTRY_MEDIA

    @property
    def searches(self) -> Mapping[str, Search]:
        return {
            "party": Search(
                permissions=("contacts.read",),
                service="contact_svc",
                find=lambda term: map(party_choice, party_search(path=self.party.path, term=term)),
            ),
            "item": Search(
                permissions=("items.read", "stock.read"),
                service="inventory_svc",
                find=lambda term: map(item_choice, items_search(term=term)),
            ),
        }

    def editable(self, obj: OrderDocument) -> bool:
        return obj.status in self.statuses

    def saved_message(self, obj: OrderDocument, *, added: bool) -> str:
        return f"Draft order {obj.pk} {'created' if added else 'saved'}: total {obj.total_amount}."

    def forms(
        self, data, *, obj: OrderDocument | None, search_urls: Mapping[str, str], labels_wanted: Callable[[], bool]
    ) -> EntryForms:
        def when_wanted(labels):
            return lambda ids: labels(ids) if labels_wanted() else {}

        header = forms.Form(data, initial=self._header_initial(obj))
        header.fields[self.party.field] = forms.CharField(
            label=self.party.kind,
            required=False,
            disabled=obj is not None,  # a draft keeps its party: the API's PUT takes lines only
            widget=ServiceAutocomplete(url=search_urls["party"], labels=when_wanted(self._party_labels)),
        )
        header.fields.update(self.options())
        lines_initial = [
            {"item_id": str(line.item_id), "quantity": line.quantity, "unit_price": line.unit_price}
            for line in (obj.lines.order_by("position") if obj else ())
        ]
        lines = LineFormSet(
            data,
            initial=lines_initial + [{}] * BLANK_LINES,
            prefix=LINES_PREFIX,
            form_kwargs={"item_widget": ServiceAutocomplete(url=search_urls["item"], labels=when_wanted(item_labels))},
        )
        return EntryForms(header=header, rows=lines, rows_field="items", rows_label="Lines")

    def _header_initial(self, obj: OrderDocument | None) -> dict[str, Any]:
        if obj is None:
            return {}
        return {self.party.field: str(getattr(obj, self.party.field))} | {
            name: getattr(obj, name) for name in self.options()
        }

    def _party_labels(self, ids: list[str]) -> dict[str, Choice]:
        wanted = _uuids(ids)
        if not wanted:  # typed, not chosen (the serializer names it): nothing contact_svc could name
            return {}
        names = party_names(path=self.party.path, ids=wanted)
        return {str(party_id): Choice(id=str(party_id), text=name) for party_id, name in names.items()}
