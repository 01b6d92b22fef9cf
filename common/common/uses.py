"""Nothing in use is deleted: the owner of a record asks the services whose orders use it.

Both ends of one small internal read, ``GET /internal/<kind>/{id}/orders`` → ``{count,
order_ids}``: the orders that are not cancelled and name the record (an item on a line, a
customer or vendor as the party). Such an order may still be confirmed, received, paid or
given back, and each of those needs the record.

- Served by sales_svc and purchase_svc with :class:`OrdersUsingView` (each names its query
  and the one caller it serves).
- Asked by inventory_svc (items) and contact_svc (customers, vendors) with
  :func:`delete_refuse_if_used`, before the delete's transaction opens (no row lock is held
  across a call). A service that cannot answer refuses the delete (its 503, 504 or 502
  passes on): deleting on a guess is how a paid receipt lost its stock (issue 26). An
  order created between the question and the delete (its references read before the
  delete, its row committed after the question) is caught when it is confirmed or
  received: those re-check their party with contact_svc and their items with inventory
  (``order_documents.references``), and refuse with a 409 before anything is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import BadGateway, Conflict
from .http import ServiceClient

# How many of the orders an answer names (the 409 shows them; the count says the rest).
NAMED_ORDERS = 5


class OrdersUsingSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Orders that are not cancelled and use the record.")
    order_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text=f"The newest of them, at most {NAMED_ORDERS}."
    )


def orders_using(*, orders: QuerySet) -> dict:
    """Return ``{"count", "order_ids"}`` of ``orders`` not cancelled, the newest named first.

    ``orders`` is already narrowed to the record (``.filter(customer_id=...)``, or
    ``.filter(lines__item_id=...)``: several lines of one item count their order once).
    """
    open_orders = orders.exclude(status="Cancelled").distinct()
    newest = open_orders.order_by("-created_at", "-id").values_list("id", flat=True)[:NAMED_ORDERS]
    return {"count": open_orders.count(), "order_ids": [str(order_id) for order_id in newest]}


class OrdersUsingView(APIView):
    """Internal: the orders that still use one record. A subclass names its query and its caller."""

    required_permissions: ClassVar[dict[str, str]] = {}  # no user token, whatever its role
    service_actions: ClassVar[dict[str, frozenset[str]]]

    def orders(self, pk: uuid.UUID) -> QuerySet:
        raise NotImplementedError

    @extend_schema(
        summary="Count the orders that use a record",
        description="The orders not cancelled that name the item, customer or vendor, asked by its owner before "
        "it deletes it. Internal: the owner's service token only (not routed by the gateway).",
        responses={200: OrdersUsingSerializer},
    )
    def get(self, request, pk: uuid.UUID):
        return Response(OrdersUsingSerializer(orders_using(orders=self.orders(pk))).data)


@dataclass(frozen=True)
class Users:
    """Whom to ask: a service (its ``<NAME>_SERVICE_URL`` in ``settings.ERP``) and the path there."""

    service: str
    path: str


def orders_count(*, users: Users) -> tuple[int, list[str]]:
    """Return how many of ``users.service``'s orders use the record, and the ids of the newest few."""
    data = ServiceClient(settings.ERP[f"{users.service.upper()}_SERVICE_URL"]).get_json(users.path)
    try:
        return int(data["count"]), [str(order_id) for order_id in data["order_ids"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadGateway(f"{users.service}_svc answered the orders check with something unreadable.") from exc


def delete_refuse_if_used(*, what: str, users: list[Users]) -> None:
    """Raise a 409 naming the orders that use ``what`` (``"item"``, ``"customer"``), if any do."""
    details = []
    for each in users:
        count, order_ids = orders_count(users=each)
        if count:
            named = ", ".join(order_ids) + (", ..." if count > len(order_ids) else "")
            message = f"On {count} {each.service} order(s) that are not cancelled: {named}."
            details.append({"field": f"{each.service}_orders", "message": message})
    if details:
        raise Conflict(
            f"This {what} is used by orders that are not cancelled; archive it instead (active: false).",
            details=details,
        )
