"""Query filters of the contact lists: search, field filters and ordering as one FilterSet.

Used by :func:`contacts.selectors.contact_list`. A value the filters cannot read (a
bad date, an unknown ordering field) is an error naming the parameter, never ignored.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from common.filters import StableOrderingFilter

ORDERING_FIELDS = ("name", "email", "created_at", "updated_at")


MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 10


def validate_search_terms(value: str) -> None:
    # Each word is one more pair of ILIKEs: bound the work one request can ask for.
    if len(value.split()) > MAX_SEARCH_TERMS:
        raise ValidationError(f"At most {MAX_SEARCH_TERMS} words.")


class ContactFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, validators=[validate_search_terms]
    )
    email = django_filters.CharFilter(method="filter_email")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=ORDERING_FIELDS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Every word must match the name or the email, as DRF's SearchFilter does.
        for term in value.split():
            queryset = queryset.filter(Q(name__icontains=term) | Q(email__icontains=term))
        return queryset

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Compare lower(email) so PostgreSQL can use the unique lower(email) index.
        return queryset.alias(email_lower=Lower("email")).filter(email_lower=value.strip().lower())
