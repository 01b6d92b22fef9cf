"""Reads of customers and vendors, for the API, the admin and the seed command."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .filters import ContactFilter
from .kinds import ContactKind
from .models import Contact, normalize_email


def contact_list(*, kind: ContactKind, filters: Mapping[str, str] | None = None) -> QuerySet[Contact]:
    """Return the contacts of ``kind``, newest first, narrowed by ``filters`` (query parameters).

    Raises ``ValidationError`` naming the parameter when a filter value cannot be read.
    """
    queryset = kind.model.objects.order_by("-created_at", "-id")
    if not filters:
        return queryset
    filterset = ContactFilter(data=filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs


def contact_list_by_ids(*, kind: ContactKind, ids: Iterable[uuid.UUID]) -> list[Contact]:
    """Return the contacts of ``kind`` among ``ids``, in the order asked, leaving out unknown ids."""
    wanted = list(dict.fromkeys(ids))
    found = kind.model.objects.in_bulk(wanted)
    return [found[contact_id] for contact_id in wanted if contact_id in found]


def contact_get_by_email(*, kind: ContactKind, email: str) -> Contact | None:
    return kind.model.objects.filter(email=normalize_email(email)).first()
