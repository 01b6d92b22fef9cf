"""The REST API of sales orders: the shared order shape plus confirm, pay and cancel.

Roles (common.roles): read and write orders.read/orders.write; confirm sales.confirm,
pay orders.pay, cancel sales.cancel. Every POST accepts ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import ClassVar

from rest_framework.decorators import action

from common.orders.filters import search_fields
from common.orders.views import OrderViewSet, order_viewset_schema, transition_schema
from sales.filters import SalesOrderFilter
from sales.models import SalesOrder
from sales.selectors import sales_order_list
from sales.services import (
    sales_order_cancel,
    sales_order_confirm,
    sales_order_create,
    sales_order_lines_replace,
    sales_order_pay,
)

from .serializers import SalesOrderCreateSerializer, SalesOrderLinesSerializer, SalesOrderSerializer

CONFIRM, PAY, CANCEL = "sales.confirm", "orders.pay", "sales.cancel"


def _transition(summary: str, description: str, permission: str):
    return transition_schema(
        summary=summary, description=description, permission=permission, serializer=SalesOrderSerializer
    )


@order_viewset_schema(
    title="sales order",
    party="customer",
    stamp="confirmed",
    serializer=SalesOrderSerializer,
    create_serializer=SalesOrderCreateSerializer,
    lines_serializer=SalesOrderLinesSerializer,
)
class SalesOrderViewSet(OrderViewSet):
    model = SalesOrder
    serializer_class = SalesOrderSerializer
    create_serializer_class = SalesOrderCreateSerializer
    lines_serializer_class = SalesOrderLinesSerializer
    filterset_class = SalesOrderFilter
    search_fields = search_fields(SalesOrder)
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

    @_transition(
        "Mark a confirmed order paid",
        "Confirmed → Paid, while stock_status is pending or issued (409 once it is short: nothing will ship).",
        PAY,
    )
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
