"""The one filtering style of list endpoints, the global ``DEFAULT_FILTER_BACKENDS``.

A list view declares:

- ``filterset_class``: a django-filter FilterSet of its field filters (``status``,
  ``created_after``...), applied by DjangoFilterBackend; a value it cannot read is a 400
  naming the parameter; a time range is :func:`datetime_range`, a yes/no :class:`BooleanFilter`.
  The FilterSet lives in the app's ``filters.py``, beside the ``SEARCH_FIELDS`` and ``ORDERING_FIELDS`` the view names;
- ``search_fields``: ``?search=`` (:class:`SearchFilter`), every word in one of the fields;
- ``ordering_fields`` (and optionally ``ordering``, else the queryset's own order):
  ``?ordering=`` (:class:`OrderingFilter`).

Views never switch the backends off; a list without filters simply declares none.

The OpenAPI document describes the list parameters from the filters themselves: each
filter's ``help_text`` (drf-spectacular's django-filter support), and ``search`` and
``ordering`` from the view's fields (:meth:`SearchFilter.get_schema_operation_parameters`,
:meth:`OrderingFilter.get_schema_operation_parameters`), so a view never writes its parameter
list by hand; at most it sharpens the sentence of ``search`` or ``ordering`` (what the words
match) with an ``OpenApiParameter`` of the same name in its ``list`` schema.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BooleanWidget
from rest_framework import filters
from rest_framework.exceptions import ValidationError


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, handed to the query in UTC.

    Python reads offsets up to ±23:59, PostgreSQL's ``timestamptz`` takes ±15:59 (a 500
    otherwise), and converting year 1 or 9999 to UTC can leave the calendar (SQLite's
    adapter converts, and overflows): in UTC from the start, out of range is a 400.
    """

    default_error_messages = {"out_of_range": "Out of range once converted to UTC."}

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class _StrictBooleanWidget(BooleanWidget):
    # django-filter's widget reads an unknown value as "no value"; this one hands it on to be refused.
    def value_from_datadict(self, data, files, name):
        parsed = super().value_from_datadict(data, files, name)
        raw = data.get(name)
        return raw if parsed is None and raw not in (None, "") else parsed


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (any case; ``1``/``0``), absent for no filter; anything else is an error."""

    widget = _StrictBooleanWidget
    default_error_messages = {"invalid": "Must be true or false."}

    def to_python(self, value):
        # The widget hands on only what it could not read as a boolean.
        if isinstance(value, str):
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class BooleanFilter(django_filters.BooleanFilter):
    """django-filter's ``BooleanFilter``, but ``?is_active=maybe`` is a 400 naming it instead of no filter."""

    field_class = StrictBooleanField


def datetime_range(field_name: str, *, help_text: str | None = None) -> tuple[DateTimeFilter, DateTimeFilter]:
    """``(…_after, …_before)``: at or after, at or before ``field_name`` (both inclusive).

    In a FilterSet: ``created_after, created_before = datetime_range("created_at")``; the
    document then says "Created at or after (ISO 8601)." and "Created at or before (ISO 8601).",
    unless ``help_text`` says what both parameters are.
    """
    event = field_name.removesuffix("_at").replace("_", " ").capitalize()
    after_text = help_text or f"{event} at or after (ISO 8601)."
    before_text = help_text or f"{event} at or before (ISO 8601)."
    after = DateTimeFilter(field_name=field_name, lookup_expr="gte", help_text=after_text)
    before = DateTimeFilter(field_name=field_name, lookup_expr="lte", help_text=before_text)
    return after, before


def _field_names(fields, separator: str = ", ") -> str:
    # search_fields may carry DRF's lookup prefixes (^name, =email): the document names the field.
    return separator.join(field.lstrip("^=@$") for field in fields)


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
        try:
            terms = super().get_search_terms(request)
        except ValidationError as exc:  # DRF's own check (a NUL character) names no field
            raise ValidationError({self.search_param: exc.detail}) from None
        if len(terms) > self.max_terms:
            raise ValidationError({self.search_param: [f"At most {self.max_terms} words."]})
        return terms

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "search_fields", None)
        if fields:
            parameters[0]["description"] = (
                f"Words that must each appear in {_field_names(fields, ' or ')} (case-insensitive); "
                f"at most {self.max_terms} words."
            )
        return parameters


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

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if fields and fields != "__all__":
            parameters[0]["description"] = (
                f"Comma-separated fields among {_field_names(fields)}; prefix `-` for descending. "
                "An unknown field is a 400."
            )
        return parameters
