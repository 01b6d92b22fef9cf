"""Django admin autocompletes whose choices live in another service.

Django's own autocomplete (``autocomplete_fields``) searches a model of this service's
database. These reuse its machinery, the select2 widget and ``admin/js/autocomplete.js``
shipped with the admin, but point it at a view of the admin that asks the owning service
through :class:`common.http.ServiceClient` (never its database):

- :class:`ServiceAutocomplete`: the widget; ``url`` is that view, ``labels(ids)`` names the
  values already chosen when a form is shown again (after a refusal, or a draft reopened);
- :func:`autocomplete_response`: the view's answer, in select2's format. A service that does
  not answer is one disabled result saying so, which select2 shows in the dropdown: a clear
  message on the form, never a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, get_select2_language
from django.http import JsonResponse

from .exceptions import ServiceError

logger = logging.getLogger(__name__)

# The id of the one result that says a service did not answer: not blank, since select2 drops a
# result whose id is the placeholder's (blank), and disabled, so nobody can choose it.
UNANSWERED_ID = "unanswered"


@dataclass(frozen=True)
class Choice:
    """One result: the value stored, the text shown, and ``data`` the page's script reads (price, stock)."""

    id: str
    text: str
    data: Mapping[str, str] = field(default_factory=dict)


class ServiceAutocomplete(AutocompleteSelect):
    """A select2 autocomplete of the admin fed by :func:`autocomplete_response` at ``url``.

    ``labels(ids)`` returns a :class:`Choice` per id the owning service knows; an id it does
    not know (or a service that does not answer) is shown as it is, so the form still renders.
    """

    def __init__(self, *, url, labels: Callable[[list[str]], Mapping[str, Choice]], attrs=None):
        # AutocompleteMixin.__init__ wants a model field and an admin site: this widget has neither.
        forms.Select.__init__(self, attrs=attrs)
        self.url, self.labels = url, labels
        self.i18n_name = get_select2_language()

    def get_url(self) -> str:
        return str(self.url)  # a reverse_lazy: resolved while rendering, under the request's script prefix

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = forms.Select.build_attrs(self, base_attrs, extra_attrs=extra_attrs)
        classes = f"{attrs.get('class', '')} admin-autocomplete".strip()
        attrs.update(
            {
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-ajax--url": self.get_url(),
                "data-theme": "admin-autocomplete",
                "data-allow-clear": json.dumps(not self.is_required),
                "data-placeholder": "",
                "lang": self.i18n_name,
                "class": classes,
            }
        )
        return attrs

    def optgroups(self, name, value, attrs=None):
        chosen = [str(v) for v in value if v not in (None, "")]
        known: Mapping[str, Choice] = {}
        if chosen:
            try:
                known = self.labels(chosen)
            except ServiceError:
                logger.warning("could not name the chosen values %s: their service did not answer", chosen)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for index, value_id in enumerate(chosen, start=len(options)):
            choice = known.get(value_id) or Choice(id=value_id, text=value_id)
            option = self.create_option(name, value_id, choice.text, True, index)
            option["attrs"].update({f"data-{key}": str(val) for key, val in choice.data.items()})
            options.append(option)
        return [(None, options, 0)]


def autocomplete_response(*, term: str, search: Callable[[str], Iterable[Choice]], service: str) -> JsonResponse:
    """Answer select2 with what ``search(term)`` finds, or with one disabled result if ``service`` does not answer."""
    try:
        found = list(search(term.strip()))
    except ServiceError as exc:
        message = f"{service} did not answer ({exc.detail}): nothing can be searched now; try again in a moment."
        unavailable = [{"id": UNANSWERED_ID, "text": message, "disabled": True}]
        return JsonResponse({"results": unavailable, "error": message, "pagination": {"more": False}})
    results = [{"id": choice.id, "text": choice.text, **choice.data} for choice in found]
    return JsonResponse({"results": results, "pagination": {"more": False}})
