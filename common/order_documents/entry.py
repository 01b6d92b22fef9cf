"""The back office's order entry: add a draft, and change its lines (and options) while it is one.

The one admin piece both order services need the same way, so it lives here; each service's
ModelAdmin mixes it in and names its own party, serializers and service calls
(:class:`OrderEntryAdminMixin`). What a save does is what the API does:

- the fields are parsed by the service's own API serializer (``POST /orders`` when adding,
  ``PUT /orders/{id}`` when changing), and the validated data go to the same service
  function as the API's view (``<kind>_order_create``, ``<kind>_order_lines_replace``), so
  the checks, the totals, the events and the refusals are the API's;
- a refusal is shown on the field it names (``customer_id``, ``items.1.quantity``: the line
  the person typed, counting only the lines they filled in) or above the form, and since the
  service refused before writing, nothing is written;
- the party and each line's item are picked with autocompletes that search contact_svc and
  inventory_svc (:mod:`common.admin_autocomplete`, :mod:`order_documents.references`) for a
  staff member whose role may read contacts, items and stock. A service that does not answer
  is a message in the dropdown, or above the form when saving, never a 500.

Once an order is no longer editable (a ``Draft``), its page is Django's read-only one.
Both pages offer the order's actions the person's role holds, as buttons that run the
changelist's action for this one order (``admin/order_actions.html``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from rest_framework import serializers

from common.admin import service_error_text
from common.admin_autocomplete import Choice, ServiceAutocomplete, autocomplete_response
from common.exceptions import (
    ServiceError,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationFailed,
    flatten_validation_errors,
)

from .lines import ItemRef
from .models import MAX_LINES, OrderDocument
from .references import ItemChoice, PartyChoice, items_lookup, items_search, party_names, party_search

# Blank lines offered below the filled ones: more are had by saving the draft and reopening it.
BLANK_LINES = 5
LINES_PREFIX = "lines"
LINE_FIELDS = ("item_id", "quantity", "unit_price")
# What the person must be allowed to read to search: the same permissions as the owning service's list.
PARTY_SEARCH_PERMISSION = "contacts.read"
ITEM_SEARCH_PERMISSIONS = ("items.read", "stock.read")
# The page's script, after django.jQuery and the autocompletes it listens to (Media keeps this order when merging).
ENTRY_MEDIA = forms.Media(js=["admin/js/jquery.init.js", "admin/js/autocomplete.js", "common/order_entry.js"])
# Set on a request whose save found a service down or slow: the page shown again does not ask
# anyone to name the chosen values (a second wait for a slow service would outlast the gateway's).
UNANSWERED = "_order_entry_unanswered"


@dataclass(frozen=True)
class Party:
    """The order's party as the entry names it: ``Party(field="customer_id", path="/customers", kind="customer")``."""

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


class LineForm(forms.Form):
    """One line as typed: every value is text here, judged by the API's serializer (its messages, its limits)."""

    item_id = forms.CharField(label="item", required=False)
    quantity = forms.CharField(required=False, widget=forms.NumberInput(attrs={"min": 1, "class": "vIntegerField"}))
    unit_price = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "the item's price", "class": "vTextField", "size": 10}),
    )

    def __init__(self, *args, item_widget: forms.Widget, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item_id"].widget = item_widget

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(name) or "").strip() for name in LINE_FIELDS)

    def as_request(self) -> dict[str, str]:
        """The line as the API's body has it: a blank value is left out (the API's default, or its "required")."""
        return {name: value for name in LINE_FIELDS if (value := (self.cleaned_data.get(name) or "").strip())}


LineFormSet = forms.formset_factory(
    LineForm, extra=0, max_num=MAX_LINES + BLANK_LINES, absolute_max=MAX_LINES + BLANK_LINES
)


class OrderEntry:
    """The forms of one add or change page, and the refusals put where they belong."""

    def __init__(self, *, header: forms.Form, lines: forms.BaseFormSet):
        self.header, self.lines = header, lines
        self.sent: list[LineForm] = []  # the filled-in lines, in the order the body lists them

    def is_valid(self) -> bool:
        return self.header.is_valid() and self.lines.is_valid()

    def body(self, party_field: str | None, options: Sequence[str]) -> dict[str, Any]:
        """The API body these forms make (call after :meth:`is_valid`); ``party_field`` None: a change, no party."""
        self.sent = [line for line in self.lines.forms if not line.is_blank()]
        body: dict[str, Any] = {"items": [line.as_request() for line in self.sent]}
        if party_field and (party := (self.header.cleaned_data.get(party_field) or "").strip()):
            body[party_field] = party
        body.update({name: self.header.cleaned_data[name] for name in options})
        return body

    def refuse(self, details: Sequence[Mapping[str, Any]]) -> None:
        """Show each ``{"field": "items.1.quantity", "message"}`` on its field, else above the form."""
        for detail in details:
            self._show(str(detail.get("field") or ""), str(detail["message"]))

    def _show(self, name: str, message: str) -> None:
        parts = name.split(".")
        if parts[0] == "items" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self.sent):
            line = self.sent[int(parts[1])]
            field = parts[2] if len(parts) > 2 and parts[2] in line.fields else None
            line.add_error(field, message)
        elif parts[0] == "items":
            self.header.add_error(None, f"Lines: {message}")
        elif name in self.header.fields:
            self.header.add_error(name, message)
        else:
            self.header.add_error(None, message)


class OrderEntryAdminMixin:
    """Add and change forms of an order admin (see the module). Put it before ``RoleAdminMixin``.

    A service's admin names ``party``, ``entry_options`` (its header's own fields, as form
    fields) and ``editable`` (the statuses whose lines may change), and implements
    ``entry_serializer`` and ``entry_save``.
    """

    party: ClassVar[Party]
    editable: ClassVar[frozenset[str]]
    entry_template = "admin/order_entry.html"
    change_form_template = "admin/order_change_form.html"

    def entry_options(self) -> dict[str, forms.Field]:
        return {}

    def entry_serializer(self, *, order: OrderDocument | None) -> type[serializers.Serializer]:
        raise NotImplementedError

    def entry_save(self, request, *, order: OrderDocument | None, data: dict) -> OrderDocument:
        raise NotImplementedError

    # ---------------------------------------------------------------- permissions

    def has_change_permission(self, request, obj=None) -> bool:
        # Only a draft's lines may change: any other order's page is read-only (with its actions).
        if obj is not None and obj.status not in self.editable:
            return False
        return super().has_change_permission(request, obj)

    def _may_enter(self, request) -> bool:
        return self.has_add_permission(request) or self.has_change_permission(request)

    # ---------------------------------------------------------------- the searches

    def get_urls(self):
        return [
            path("search/party/", self.admin_site.admin_view(self.party_search_view), name=self._url_name("party")),
            path("search/items/", self.admin_site.admin_view(self.item_search_view), name=self._url_name("item")),
            *super().get_urls(),
        ]

    def _url_name(self, search: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{search}_search"

    def _search_url(self, search: str):
        return reverse_lazy(f"{self.admin_site.name}:{self._url_name(search)}")

    def party_search_view(self, request):
        if not (self._may_enter(request) and self.role_allows(request, PARTY_SEARCH_PERMISSION)):
            raise PermissionDenied
        return autocomplete_response(
            term=request.GET.get("term", ""),
            search=lambda term: map(party_choice, party_search(path=self.party.path, term=term)),
            service="contact_svc",
        )

    def item_search_view(self, request):
        if not (
            self._may_enter(request)
            and all(self.role_allows(request, permission) for permission in ITEM_SEARCH_PERMISSIONS)
        ):
            raise PermissionDenied
        return autocomplete_response(
            term=request.GET.get("term", ""),
            search=lambda term: map(item_choice, items_search(term=term)),
            service="inventory_svc",
        )

    def _party_labels(self, ids: list[str]) -> dict[str, Choice]:
        names = party_names(path=self.party.path, ids=_uuids(ids))
        return {str(party_id): Choice(id=str(party_id), text=name) for party_id, name in names.items()}

    def _item_labels(self, ids: list[str]) -> dict[str, Choice]:
        wanted = _uuids(ids)
        found = items_lookup(ids=wanted) if wanted else {}
        return {str(item_id): item_choice(item) for item_id, item in found.items()}

    # ---------------------------------------------------------------- the pages

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._entry_view(request, order=None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id)) if request.method in ("GET", "POST") else None
        if order is not None and self.has_change_permission(request, order):
            return self._entry_view(request, order=order)
        extra_context = {**(extra_context or {}), **self._actions_context(request, order)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _entry_forms(self, request, order: OrderDocument | None) -> OrderEntry:
        data = request.POST if request.method == "POST" else None

        def unless_unanswered(labels):
            return lambda ids: {} if getattr(request, UNANSWERED, False) else labels(ids)

        header = forms.Form(data, initial=self._header_initial(order))
        header.fields[self.party.field] = forms.CharField(
            label=self.party.kind,
            required=False,
            disabled=order is not None,  # a draft keeps its party: the API's PUT takes lines only
            widget=ServiceAutocomplete(url=self._search_url("party"), labels=unless_unanswered(self._party_labels)),
        )
        header.fields.update(self.entry_options())
        lines_initial = [
            {"item_id": str(line.item_id), "quantity": line.quantity, "unit_price": line.unit_price}
            for line in (order.lines.order_by("position") if order else ())
        ]
        item_widget = ServiceAutocomplete(url=self._search_url("item"), labels=unless_unanswered(self._item_labels))
        lines = LineFormSet(
            data,
            initial=lines_initial + [{}] * BLANK_LINES,
            prefix=LINES_PREFIX,
            form_kwargs={"item_widget": item_widget},
        )
        return OrderEntry(header=header, lines=lines)

    def _header_initial(self, order: OrderDocument | None) -> dict[str, Any]:
        if order is None:
            return {}
        return {self.party.field: str(getattr(order, self.party.field))} | {
            name: getattr(order, name) for name in self.entry_options()
        }

    def _entry_view(self, request, *, order: OrderDocument | None):
        entry = self._entry_forms(request, order)
        if request.method == "POST" and entry.is_valid():
            saved = self._entry_submit(request, entry, order)
            if saved is not None:
                return self._entry_saved(request, saved, added=order is None)
        return self._entry_page(request, entry, order)

    def _entry_submit(self, request, entry: OrderEntry, order: OrderDocument | None) -> OrderDocument | None:
        """Validate the body as the API does and save it through the service; None (and errors shown) if refused."""
        body = entry.body(self.party.field if order is None else None, list(self.entry_options()))
        serializer = self.entry_serializer(order=order)(data=body)
        if not serializer.is_valid():
            entry.refuse(flatten_validation_errors(serializer.errors))
            return None
        try:
            return self.entry_save(request, order=order, data=serializer.validated_data)
        except ValidationFailed as exc:
            entry.refuse(exc.details or [])
        except ServiceError as exc:
            if isinstance(exc, (UpstreamUnavailable, UpstreamTimeout)):
                setattr(request, UNANSWERED, True)
            entry.refuse([{"field": "", "message": f"Nothing was saved: {service_error_text(exc)}"}])
            entry.refuse([detail for detail in exc.details or [] if detail.get("field", "").startswith("items.")])
        return None

    def _entry_saved(self, request, order: OrderDocument, *, added: bool):
        if added:
            self.log_addition(request, order, [{"added": {}}])
        else:
            self.log_change(request, order, [{"changed": {"fields": ["lines"]}}])
        verb = "created" if added else "saved"
        self.message_user(request, f"Draft order {order.pk} {verb}: total {order.total_amount}.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[order.pk])
        )

    def _entry_page(self, request, entry: OrderEntry, order: OrderDocument | None):
        media = self.media + entry.header.media + entry.lines.media + ENTRY_MEDIA
        title = f"Add {self.opts.verbose_name}" if order is None else f"Change draft {self.opts.verbose_name}"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "order": order,
            "header": entry.header,
            "lines": entry.lines,
            "media": media,
            "has_errors": bool(entry.header.errors or any(line.errors for line in entry.lines.forms)),
            **self._actions_context(request, order),
        }
        return TemplateResponse(request, self.entry_template, context)

    def _actions_context(self, request, order: OrderDocument | None) -> dict[str, Any]:
        """The actions the person may run on ``order``, as buttons posting to the changelist."""
        if order is None:
            return {"order_actions": []}
        return {
            "order_actions": [(name, description) for name, (_, _, description) in self.get_actions(request).items()],
            "order_action_checkbox": ACTION_CHECKBOX_NAME,
            "order_pk": str(order.pk),
        }
