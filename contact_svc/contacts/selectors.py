"""Reads of customers and vendors, for the API, the admin and the seed command."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from .kinds import ContactKind
from .models import Contact, normalize_email


def contact_list(*, kind: ContactKind) -> QuerySet[Contact]:
    """Return the contacts of ``kind``, newest first (the API filters, orders and paginates this)."""
    return kind.model.objects.order_by("-created_at", "-id")


def contact_list_by_ids(*, kind: ContactKind, ids: Iterable[uuid.UUID]) -> list[Contact]:
    """Return the contacts of ``kind`` among ``ids``, in the order asked, leaving out unknown ids."""
    wanted = list(dict.fromkeys(ids))
    found = kind.model.objects.in_bulk(wanted)
    return [found[contact_id] for contact_id in wanted if contact_id in found]


def contact_get_by_email(*, kind: ContactKind, email: str) -> Contact | None:
    return kind.model.objects.filter(email=normalize_email(email)).first()
