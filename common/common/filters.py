"""The one filtering style of list endpoints, the global ``DEFAULT_FILTER_BACKENDS``.

A list view declares:

- ``filterset_class``: a django-filter FilterSet of its field filters (``status``,
  ``created_after``...), applied by DjangoFilterBackend; a value it cannot read is a 400
  naming the parameter;
- ``search_fields``: ``?search=`` (:class:`SearchFilter`), every word in one of the fields;
- ``ordering_fields`` (and optionally ``ordering``, else the queryset's own order):
  ``?ordering=`` (:class:`OrderingFilter`).

Views never switch the backends off; a list without filters simply declares none.
"""

from __future__ import annotations

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """DRF's ``?search=`` (case-insensitive, every word must match one of ``search_fields``), bounded.

    Each word is one more set of ILIKEs: more than ``max_length`` characters or
    ``max_terms`` words is a 400 naming ``search``.
    """

    max_length = 200
    max_terms = 10

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if len(value) > self.max_length:
            raise ValidationError({self.search_param: [f"Ensure this value has at most {self.max_length} characters."]})
        terms = super().get_search_terms(request)
        if len(terms) > self.max_terms:
            raise ValidationError({self.search_param: [f"At most {self.max_terms} words."]})
        return terms


class OrderingFilter(filters.OrderingFilter):
    """DRF's ``?ordering=a,-b`` among ``ordering_fields``, strict and stable.

    An unknown field is a 400 naming ``ordering`` (DRF's own filter would ignore it), and
    the primary key breaks ties, so rows with equal values page deterministically.
    """

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if not param:
            return self.get_default_ordering(view)
        fields = [term.strip() for term in param.split(",") if term.strip()]
        valid = self.remove_invalid_fields(queryset, fields, view, request)
        unknown = [term for term in fields if term not in valid]
        if unknown or not fields:
            allowed = ", ".join(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
            raise ValidationError(
                {self.ordering_param: [f"Unknown ordering field: {', '.join(unknown) or param!r}. Use {allowed}."]}
            )
        if not any(term.lstrip("-") in ("pk", "id") for term in valid):
            valid.append("-pk")
        return valid
