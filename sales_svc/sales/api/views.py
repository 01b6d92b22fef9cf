"""The REST API of sales orders: list, read, create, replace a draft's lines, confirm, pay, cancel.

Written the one way of :mod:`common.views`: the mixins' hooks call one service each
(``perform_create`` -> :func:`~sales.services.sales_order_create`, ``perform_update`` ->
:func:`~sales.services.sales_order_lines_replace`) and each transition is an ``@action`` of
its own calling its service, so roles and docs are declared per action. Filtering, search
and ordering are the global backends'; the list's parameters are documented from
:class:`~sales.filters.SalesOrderFilter` itself. Services raise common's domain exceptions,
which the envelope handler answers.

Roles (common.roles): read and write orders.read/orders.write; confirm sales.confirm,
pay orders.pay, cancel sales.cancel. Every POST accepts ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import ClassVar

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.authentication import actor_of, home_summary
from common.roles import roles_text
from common.uses import OrdersUsingView
from common.views import ServiceCreateMixin, ServiceUpdateMixin, UUIDLookupMixin
from order_documents.lines import line_requests
from sales.filters import ORDERING_FIELDS, SEARCH_FIELDS, SalesOrderFilter
from sales.models import SalesOrder
from sales.selectors import sales_order_list, sales_order_summary
from sales.services import (
    sales_order_cancel,
    sales_order_confirm,
    sales_order_create,
    sales_order_lines_replace,
    sales_order_pay,
)

from .serializers import (
    SalesOrderCreateSerializer,
    SalesOrderLinesSerializer,
    SalesOrderSerializer,
    SalesSummarySerializer,
)

READ, WRITE = "orders.read", "orders.write"
CONFIRM, PAY, CANCEL = "sales.confirm", "orders.pay", "sales.cancel"


def _transition_schema(summary: str, description: str, permission: str):
    """A transition's docs: no body, answers the order."""
    return extend_schema(
        summary=summary,
        description=f"{description} {roles_text(permission)}",
        request=None,
        responses={200: SalesOrderSerializer},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List sales orders",
        description="Newest first unless `ordering` says otherwise; `search` matches the customer's name and "
        f"the lines' SKUs. {roles_text(READ)}",
        parameters=[
            # The backends' own descriptions are generic; the filters document themselves.
            OpenApiParameter("search", str, description="Words that must each appear in the customer's name or a SKU."),
            OpenApiParameter("ordering", str, description=f"Among {', '.join(ORDERING_FIELDS)}; `-` descends."),
        ],
    ),
    retrieve=extend_schema(summary="Get a sales order", description=roles_text(READ)),
    create=extend_schema(
        summary="Create a sales order (Draft)",
        description="The customer and every item are checked with contact_svc and inventory_svc in one call "
        f"each; a line's price defaults to the item's unit_price. {roles_text(WRITE)}",
        request=SalesOrderCreateSerializer,
        responses={201: SalesOrderSerializer},
    ),
    update=extend_schema(
        summary="Replace a draft's lines",
        description=f"Only in Draft; invalid lines change nothing. {roles_text(WRITE)}",
        request=SalesOrderLinesSerializer,
        responses={200: SalesOrderSerializer},
    ),
)
class SalesOrderViewSet(
    UUIDLookupMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ServiceUpdateMixin,
    viewsets.GenericViewSet,
):
    """list, retrieve, create, replace lines (PUT), and the transitions confirm, pay and cancel."""

    serializer_class = SalesOrderSerializer
    filterset_class = SalesOrderFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ORDERING_FIELDS
    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "head", "options"]
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "summary": READ,
        "create": WRITE,
        "update": WRITE,
        "confirm": CONFIRM,
        "pay": PAY,
        "cancel": CANCEL,
    }

    def get_queryset(self):
        # Lines are read with the order only where the answer shows them as they are now.
        return sales_order_list() if self.action in ("list", "retrieve") else SalesOrder.objects.all()

    def get_serializer_class(self):
        if self.action == "create":
            return SalesOrderCreateSerializer
        if self.action == "update":
            return SalesOrderLinesSerializer
        return SalesOrderSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = sales_order_create(
            customer_id=data["customer_id"],
            lines=line_requests(data["items"]),
            allow_backorder=data.get("allow_backorder", False),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = sales_order_lines_replace(
            order_id=serializer.instance.pk,
            lines=line_requests(data["items"]),
            allow_backorder=data.get("allow_backorder"),
        )

    @extend_schema(
        summary="Summarise sales orders",
        description="What the back office's home shows: the confirmed orders still waiting for inventory's answer "
        "past `SALES_PENDING_STUCK_AFTER` (how many, the ten oldest), and the orders confirmed on each of the last "
        "30 UTC days with their totals. Read-only, three aggregate queries whatever the number of orders; takes no "
        f"parameter. {roles_text(READ)}",
        responses={200: SalesSummarySerializer},
    )
    @action(detail=False, methods=["get"], url_path="summary", pagination_class=None, filter_backends=[])
    @home_summary
    def summary(self, request):
        return Response(SalesSummarySerializer(sales_order_summary()).data)

    @_transition_schema(
        "Confirm a draft",
        "Checks stock with inventory (counting orders it has not applied yet): short lines are a 409, unless the "
        "order allows backorders.",
        CONFIRM,
    )
    # A transition reads the order itself (locked, in its service: a 404 if there is none), so the path's
    # id goes to it as it is: no get_object() reading the same row once more before.
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._answer(sales_order_confirm(order_id=self.lookup_id(), actor=actor_of(request.user)))

    @_transition_schema(
        "Mark a confirmed order paid",
        "Confirmed → Paid, while stock_status is pending, issued or backordered (409 once it is short: nothing "
        "will ship).",
        PAY,
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self._answer(sales_order_pay(order_id=self.lookup_id(), actor=actor_of(request.user)))

    @_transition_schema(
        "Cancel an order",
        "Draft → Cancelled, or Confirmed → Cancelled once stock_status is issued, short or backordered (409 while "
        "pending).",
        CANCEL,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._answer(sales_order_cancel(order_id=self.lookup_id(), actor=actor_of(request.user)))

    def _answer(self, order: SalesOrder) -> Response:
        """Answer the order as the transition committed it; its lines are read once, unless already held."""
        prefetch_related_objects([order], "lines")
        return Response(SalesOrderSerializer(order).data)


# The internal reads of the owners of an order's references, before they delete one (common.uses).
class ItemOrdersView(OrdersUsingView):
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"get": frozenset({"inventory"})}

    def orders(self, pk):
        return SalesOrder.objects.filter(lines__item_id=pk)


class CustomerOrdersView(OrdersUsingView):
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"get": frozenset({"contact"})}

    def orders(self, pk):
        return SalesOrder.objects.filter(customer_id=pk)
