"""The REST API of sales orders: the shared order shape plus confirm, pay and cancel.

Roles (common.roles): read and write orders.read/orders.write; confirm sales.confirm,
pay orders.pay, cancel sales.cancel. Every POST accepts ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action

from common.orders.serializers import OrderLinesSerializer
from common.orders.views import READ, WRITE, OrderViewSet
from common.roles import roles_for
from sales.models import SalesOrder
from sales.selectors import sales_order_list
from sales.services import (
    sales_order_cancel,
    sales_order_confirm,
    sales_order_create,
    sales_order_lines_replace,
    sales_order_pay,
)

from .serializers import SalesOrderCreateSerializer, SalesOrderSerializer

CONFIRM, PAY, CANCEL = "sales.confirm", "orders.pay", "sales.cancel"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A retry with the same key and body replays the first response.",
)


def _roles(permission: str) -> str:
    return f"Roles: {', '.join(roles_for(permission))}."


def _transition(summary: str, description: str, permission: str):
    return extend_schema(
        summary=summary,
        description=f"{description} {_roles(permission)}",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: SalesOrderSerializer},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List sales orders",
        description="Newest first unless `ordering` says otherwise; `search` matches the customer's name and "
        f"the lines' SKUs. {_roles(READ)}",
        parameters=[
            OpenApiParameter("search", str, description="Words that must each appear in the name or a SKU."),
            OpenApiParameter(
                "ordering", str, description="Among created_at, updated_at, total_amount, status; `-` descends."
            ),
            OpenApiParameter("created_after", str, description="ISO 8601."),
            OpenApiParameter("created_before", str, description="ISO 8601."),
            OpenApiParameter("confirmed_after", str, description="ISO 8601."),
            OpenApiParameter("confirmed_before", str, description="ISO 8601."),
        ],
    ),
    retrieve=extend_schema(summary="Get a sales order", description=_roles(READ)),
    create=extend_schema(
        summary="Create a sales order (Draft)",
        description="The customer and every item are checked with contact_svc and inventory_svc; a line's "
        f"price defaults to the item's unit_price. {_roles(WRITE)}",
        request=SalesOrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: SalesOrderSerializer},
    ),
    update=extend_schema(
        summary="Replace a draft's lines",
        description=f"Only in Draft; invalid lines change nothing. {_roles(WRITE)}",
        request=OrderLinesSerializer,
        responses={200: SalesOrderSerializer},
    ),
)
class SalesOrderViewSet(OrderViewSet):
    model = SalesOrder
    serializer_class = SalesOrderSerializer
    create_serializer_class = SalesOrderCreateSerializer
    list_selector = staticmethod(sales_order_list)
    create_service = staticmethod(sales_order_create)
    lines_replace_service = staticmethod(sales_order_lines_replace)
    required_permissions: ClassVar[dict[str, str]] = {
        **OrderViewSet.required_permissions,
        "confirm": CONFIRM,
        "pay": PAY,
        "cancel": CANCEL,
    }

    @_transition("Confirm a draft", "Checks stock with inventory: short lines are a 409.", CONFIRM)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self.transition(sales_order_confirm)

    @_transition("Mark a confirmed order paid", "Confirmed → Paid.", PAY)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self.transition(sales_order_pay)

    @_transition(
        "Cancel an order",
        "Draft → Cancelled, or Confirmed → Cancelled once stock_status is issued or short (409 while pending).",
        CANCEL,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.transition(sales_order_cancel)
