"""Admin add and change pages whose save is the API's: its serializer judges the body, its service writes it.

Django's add and change views save a ModelForm into the admin's own tables. A record whose
creation checks references with other services (an order: its party and items) is written by
a service function instead, as the API writes it. A ModelAdmin mixes in
:class:`ServiceEntryAdminMixin`, names an ``entry`` (what its page holds, :class:`Entry`) and
implements ``entry_serializer`` (the API's serializer for the body) and ``entry_save`` (the
API's service call):

- the page's forms are parsed as text and turned into the API's body (:meth:`EntryForms.body`),
  which the API's own serializer checks: its messages and limits, not a second set;
- a refusal, the serializer's or the service's (``ValidationFailed`` naming ``customer_id`` or
  ``items.1.quantity``), is shown on the field it names, counting only the rows filled in; any
  other refusal, a service that does not answer included, above the form. The service refused
  before writing, so nothing is written;
- the entry's autocompletes (:mod:`common.admin_autocomplete`) are views of this admin, each
  asking its service for a staff member whose role holds the permissions it names;
- once ``entry.editable(obj)`` is false the page is Django's read-only one; both pages offer the
  actions the role holds as buttons running the changelist's action for this one record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Protocol

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from rest_framework import serializers

from .admin import service_error_text
from .admin_autocomplete import Choice, autocomplete_response
from .exceptions import ServiceError, UpstreamTimeout, UpstreamUnavailable, ValidationFailed, flatten_validation_errors

# Set on a request whose save found a service down or slow: the page shown again does not ask
# anyone to name the chosen values (a second wait for a slow service would outlast the gateway's).
UNANSWERED = "_entry_unanswered"


@dataclass(frozen=True)
class Search:
    """An autocomplete's source: who may search (``permissions``), what ``find(term)`` asks, of which ``service``."""

    permissions: tuple[str, ...]
    service: str
    find: Callable[[str], Iterable[Choice]]


class EntryRowForm(forms.Form):
    """A row of the entry's formset: every value is text here, judged by the API's serializer."""

    def is_blank(self) -> bool:
        return not any(str(self.cleaned_data.get(name) or "").strip() for name in self.fields)

    def as_request(self) -> dict[str, str]:
        """The row as the API's body has it: a blank value is left out (the API's default, or its "required")."""
        return {name: value for name in self.fields if (value := str(self.cleaned_data.get(name) or "").strip())}


class EntryForms:
    """The forms of one page, a header form and a formset of rows, and their refusals.

    The rows are ``rows_field`` in the body (``items``); a refusal of them all is shown above
    the form under ``rows_label`` (``Lines``), the name the page gives them.
    """

    def __init__(self, *, header: forms.Form, rows: forms.BaseFormSet, rows_field: str, rows_label: str):
        self.header, self.rows = header, rows
        self.rows_field, self.rows_label = rows_field, rows_label
        self.sent: list[EntryRowForm] = []  # the filled-in rows, in the order the body lists them

    def is_valid(self) -> bool:
        return self.header.is_valid() and self.rows.is_valid()

    @property
    def has_errors(self) -> bool:
        # The formset's own errors too: a tampered management form (or too many rows) saves nothing either.
        return bool(self.header.errors or self.rows.non_form_errors() or any(row.errors for row in self.rows.forms))

    def body(self) -> dict[str, Any]:
        """The API body of these forms (after :meth:`is_valid`): blank and disabled header fields left out."""
        body: dict[str, Any] = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.header.cleaned_data.items()
            if not self.header.fields[name].disabled and value not in ("", None)
        }
        self.sent = [row for row in self.rows.forms if not row.is_blank()]
        body[self.rows_field] = [row.as_request() for row in self.sent]
        return body

    def refuse(self, details: Sequence[Mapping[str, Any]]) -> None:
        """Show each ``{"field": "items.1.quantity", "message"}`` on its field, else above the form."""
        for detail in details:
            self._show(str(detail.get("field") or ""), str(detail["message"]))

    def _show(self, name: str, message: str) -> None:
        parts = name.split(".")
        if parts[0] == self.rows_field and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self.sent):
            row = self.sent[int(parts[1])]
            row.add_error(parts[2] if len(parts) > 2 and parts[2] in row.fields else None, message)
        elif parts[0] == self.rows_field:
            self.header.add_error(None, f"{self.rows_label}: {message}")
        elif name in self.header.fields:
            self.header.add_error(name, message)
        else:
            self.header.add_error(None, message)


class Entry(Protocol):
    """What an entry page holds (``order_documents.forms.OrderEntry`` is one)."""

    template: str
    media: forms.Media

    @property
    def searches(self) -> Mapping[str, Search]: ...

    def editable(self, obj) -> bool: ...

    def forms(self, data, *, obj, search_urls: Mapping[str, str], labels_wanted: Callable[[], bool]) -> EntryForms: ...

    def saved_message(self, obj, *, added: bool) -> str: ...


class ServiceEntryAdminMixin:
    """Add and change pages saved through the API's serializer and service (see the module).

    Put it before ``RoleAdminMixin``: ``add`` and ``change`` are the matrix's, and change is
    refused for a record ``entry.editable`` says no to.
    """

    entry: ClassVar[Entry]
    change_form_template = "admin/entry_change_form.html"

    def entry_serializer(self, *, obj) -> type[serializers.Serializer]:
        raise NotImplementedError

    def entry_save(self, request, *, obj, data: dict):
        raise NotImplementedError

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not self.entry.editable(obj):
            return False
        return super().has_change_permission(request, obj)

    # ---------------------------------------------------------------- the searches

    def get_urls(self):
        searches = [
            path(f"search/{name}/", self.admin_site.admin_view(partial(self._search_view, name)), name=self._url(name))
            for name in self.entry.searches
        ]
        return [*searches, *super().get_urls()]

    def _url(self, search: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{search}_search"

    def _search_view(self, name: str, request):
        search = self.entry.searches[name]
        may_enter = self.has_add_permission(request) or self.has_change_permission(request)
        if not (may_enter and all(self.role_allows(request, permission) for permission in search.permissions)):
            raise PermissionDenied
        return autocomplete_response(term=request.GET.get("term", ""), search=search.find, service=search.service)

    # ---------------------------------------------------------------- the pages

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._entry_view(request, obj=None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_change_permission(request, obj):
            return self._entry_view(request, obj=obj)
        extra_context = {**(extra_context or {}), **self._actions_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _entry_view(self, request, *, obj):
        entry = self.entry.forms(
            request.POST if request.method == "POST" else None,
            obj=obj,
            search_urls={
                name: reverse_lazy(f"{self.admin_site.name}:{self._url(name)}") for name in self.entry.searches
            },
            labels_wanted=lambda: not getattr(request, UNANSWERED, False),
        )
        if request.method == "POST" and entry.is_valid():
            saved = self._entry_submit(request, entry, obj)
            if saved is not None:
                return self._entry_saved(request, saved, entry, added=obj is None)
        return self._entry_page(request, entry, obj)

    def _entry_submit(self, request, entry: EntryForms, obj):
        """Check the body as the API does and save it through the service; None (and errors shown) if refused."""
        serializer = self.entry_serializer(obj=obj)(data=entry.body())
        if not serializer.is_valid():
            entry.refuse(flatten_validation_errors(serializer.errors))
            return None
        try:
            return self.entry_save(request, obj=obj, data=serializer.validated_data)
        except ValidationFailed as exc:
            entry.refuse(exc.details or [])
        except ServiceError as exc:
            if isinstance(exc, UpstreamUnavailable | UpstreamTimeout):
                setattr(request, UNANSWERED, True)
            entry.refuse([{"field": "", "message": f"Nothing was saved: {service_error_text(exc)}"}])
            rows = f"{entry.rows_field}."
            entry.refuse([detail for detail in exc.details or [] if str(detail.get("field", "")).startswith(rows)])
        return None

    def _entry_saved(self, request, obj, entry: EntryForms, *, added: bool):
        if added:
            self.log_addition(request, obj, [{"added": {}}])
        else:
            self.log_change(request, obj, [{"changed": {"fields": [entry.rows_field]}}])
        self.message_user(request, self.entry.saved_message(obj, added=added), messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        )

    def _entry_page(self, request, entry: EntryForms, obj):
        verb = "Add" if obj is None else "Change"
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} {self.opts.verbose_name}",
            "opts": self.opts,
            "original": obj,
            "header": entry.header,
            "rows": entry.rows,
            "media": self.media + entry.header.media + entry.rows.media + self.entry.media,
            "has_errors": entry.has_errors,
            **self._actions_context(request, obj),
        }
        return TemplateResponse(request, self.entry.template, context)

    def _actions_context(self, request, obj) -> dict[str, Any]:
        """The actions the person may run on ``obj``, as buttons posting to the changelist."""
        if obj is None:
            return {"record_actions": []}
        return {
            "record_actions": [(name, description) for name, (_, _, description) in self.get_actions(request).items()],
            "record_action_checkbox": ACTION_CHECKBOX_NAME,
            "record_pk": str(obj.pk),
        }
