"""Reads of order documents: the list (filtered, lines prefetched) and one order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from django.db.models import QuerySet

from .filters import OrderFilter, filterset_apply
from .models import OrderDocument

Order = TypeVar("Order", bound=OrderDocument)


def order_queryset(model: type[Order]) -> QuerySet[Order]:
    """Return orders newest first with their lines prefetched (two queries for any page)."""
    return model.objects.order_by("-created_at", "-id").prefetch_related("lines")


def order_list(
    *, model: type[Order], filterset_class: type[OrderFilter], filters: Mapping[str, str] | None = None
) -> QuerySet[Order]:
    """Return the orders of ``model`` narrowed by ``filters`` (query parameters); bad values are a 400."""
    orders = filterset_apply(queryset=order_queryset(model), filterset_class=filterset_class, filters=filters)
    # Equal values (two orders of one total) page deterministically.
    return orders.order_by(*orders.query.order_by, "-id") if filters and filters.get("ordering") else orders
