"""Reads of order documents: newest first, lines prefetched."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet

from .models import OrderDocument

Order = TypeVar("Order", bound=OrderDocument)


def order_queryset(model: type[Order]) -> QuerySet[Order]:
    """Return orders newest first with their lines prefetched (two queries for any page)."""
    return model.objects.order_by("-created_at", "-id").prefetch_related("lines")
