"""The list filters every order document has, for the global filter backends (common.filters).

A service's viewset names a FilterSet subclassing :class:`OrderFilter` (adding ``status``,
its party's id, its own date range...) as ``filterset_class``; ``?search=`` and
``?ordering=`` are the backends' too, configured by :func:`search_fields` and
``ORDERING_FIELDS``. Search matches the party's name and the lines' SKUs (DRF queries the
lines with an ``EXISTS``, so an order with two matching lines is listed once).
"""

from __future__ import annotations

import django_filters

from ..filters import datetime_range
from .models import OrderDocument

ORDERING_FIELDS = ("created_at", "updated_at", "total_amount", "status")


def search_fields(model: type[OrderDocument]) -> tuple[str, ...]:
    """Return what ``?search=`` looks in: the party's name, the lines' SKUs."""
    return (model.PARTY.name_field, "lines__sku")


class OrderFilter(django_filters.FilterSet):
    created_after, created_before = datetime_range("created_at")
