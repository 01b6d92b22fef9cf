"""Apply an event to a local copy only if it is newer than what the copy holds.

Delivery is at least once and unordered (contract §6): ``contact.customer.updated``
v5 may arrive after v6, or twice. A consumer that keeps a copy of another service's
record (a customer's name on an order) stores the ``aggregate_version`` it applied
beside it and lets :func:`apply_if_newer` compare the two in one conditional UPDATE,
so two consumers applying different versions at once cannot overwrite the newer
with the older.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet


def apply_if_newer(
    queryset: QuerySet, *, version: int, values: Mapping[str, Any], version_field: str = "source_version"
) -> int:
    """Set ``values`` and ``version_field = version`` on the rows holding an older version.

    ``queryset`` selects the copies (``Order.objects.filter(customer_id=...)``);
    a null ``version_field`` counts as older than anything. Returns how many rows
    were updated: 0 means the event was stale (or a duplicate) for every copy.
    """
    older = Q(**{f"{version_field}__lt": version}) | Q(**{f"{version_field}__isnull": True})
    return queryset.filter(older).update(**values, **{version_field: version})
