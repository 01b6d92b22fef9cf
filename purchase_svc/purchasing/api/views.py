"""The REST API of purchase orders: the shared order shape plus receive, pay and cancel.

Roles (common.roles): read and write orders.read/orders.write; receive
purchase.receive, pay orders.pay, cancel purchase.cancel. Every POST accepts
``Idempotency-Key``.
"""

from __future__ import annotations

from typing import ClassVar

from rest_framework.decorators import action

from common.orders.filters import search_fields
from common.orders.views import OrderViewSet, order_viewset_schema, transition_schema
from purchasing.filters import PurchaseOrderFilter
from purchasing.models import PurchaseOrder
from purchasing.selectors import purchase_order_list
from purchasing.services import (
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_lines_replace,
    purchase_order_pay,
    purchase_order_receive,
)

from .serializers import PurchaseOrderCreateSerializer, PurchaseOrderLinesSerializer, PurchaseOrderSerializer

RECEIVE, PAY, CANCEL = "purchase.receive", "orders.pay", "purchase.cancel"


def _transition(summary: str, description: str, permission: str):
    return transition_schema(
        summary=summary, description=description, permission=permission, serializer=PurchaseOrderSerializer
    )


@order_viewset_schema(
    title="purchase order",
    party="vendor",
    stamp="received",
    serializer=PurchaseOrderSerializer,
    create_serializer=PurchaseOrderCreateSerializer,
    lines_serializer=PurchaseOrderLinesSerializer,
)
class PurchaseOrderViewSet(OrderViewSet):
    model = PurchaseOrder
    serializer_class = PurchaseOrderSerializer
    create_serializer_class = PurchaseOrderCreateSerializer
    lines_serializer_class = PurchaseOrderLinesSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = search_fields(PurchaseOrder)
    list_selector = staticmethod(purchase_order_list)
    create_service = staticmethod(purchase_order_create)
    lines_replace_service = staticmethod(purchase_order_lines_replace)
    required_permissions: ClassVar[dict[str, str]] = {
        **OrderViewSet.required_permissions,
        "receive": RECEIVE,
        "pay": PAY,
        "cancel": CANCEL,
    }

    @_transition("Receive a draft", "Draft → Received; inventory adds the stock.", RECEIVE)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        return self.transition(purchase_order_receive)

    @_transition("Mark a received order paid", "Received → Paid.", PAY)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self.transition(purchase_order_pay)

    @_transition("Cancel a draft", "Draft → Cancelled.", CANCEL)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.transition(purchase_order_cancel)
