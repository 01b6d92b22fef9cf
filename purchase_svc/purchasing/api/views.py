"""The REST API of purchase orders: list, read, create, replace a draft's lines, receipts, receive, close, pay, cancel.

Written the one way of :mod:`common.views`: the mixins' hooks call one service each
(``perform_create`` -> :func:`~purchasing.services.purchase_order_create`, ``perform_update``
-> :func:`~purchasing.services.purchase_order_lines_replace`) and each transition is an
``@action`` of its own calling its service, so roles and docs are declared per action.
Filtering, search and ordering are the global backends'; the list's parameters are
documented from :class:`~purchasing.filters.PurchaseOrderFilter` itself. Services raise
common's domain exceptions, which the envelope handler answers.

Roles (common.roles): read and write orders.read/orders.write (the receipts read
with orders.read); record a receipt, receive and close purchase.receive, pay
orders.pay, cancel purchase.cancel. Every POST accepts ``Idempotency-Key`` (the
common idempotency middleware answers a repeated key with the first answer, so a
receipt sent twice is recorded once).
"""

from __future__ import annotations

from typing import ClassVar

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.authentication import actor_of, home_summary
from common.roles import roles_text
from common.uses import OrdersUsingView
from common.views import ServiceCreateMixin, ServiceUpdateMixin, UUIDLookupMixin
from order_documents.lines import line_requests
from purchasing.filters import ORDERING_FIELDS, SEARCH_FIELDS, PurchaseOrderFilter
from purchasing.models import PurchaseOrder
from purchasing.receipts import receipt_requests
from purchasing.selectors import purchase_order_list, purchase_receipt_list, purchase_summary
from purchasing.services import (
    purchase_order_cancel,
    purchase_order_close,
    purchase_order_create,
    purchase_order_lines_replace,
    purchase_order_pay,
    purchase_order_receipt_create,
    purchase_order_receive,
)

from .serializers import (
    PurchaseOrderCreateSerializer,
    PurchaseOrderLinesSerializer,
    PurchaseOrderSerializer,
    PurchaseReceiptCreateSerializer,
    PurchaseReceiptSerializer,
    PurchaseSummarySerializer,
)

READ, WRITE = "orders.read", "orders.write"
RECEIVE, PAY, CANCEL = "purchase.receive", "orders.pay", "purchase.cancel"


def _transition_schema(summary: str, description: str, permission: str):
    """A transition's docs: no body, answers the order."""
    return extend_schema(
        summary=summary,
        description=f"{description} {roles_text(permission)}",
        request=None,
        responses={200: PurchaseOrderSerializer},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List purchase orders",
        description="Newest first unless `ordering` says otherwise; `search` matches the vendor's name and "
        f"the lines' SKUs. {roles_text(READ)}",
        parameters=[
            # The backends' own descriptions are generic; the filters document themselves.
            OpenApiParameter("search", str, description="Words that must each appear in the vendor's name or a SKU."),
            OpenApiParameter("ordering", str, description=f"Among {', '.join(ORDERING_FIELDS)}; `-` descends."),
        ],
    ),
    retrieve=extend_schema(summary="Get a purchase order", description=roles_text(READ)),
    create=extend_schema(
        summary="Create a purchase order (Draft)",
        description="The vendor and every item are checked with contact_svc and inventory_svc in one call "
        f"each; a line's price defaults to the item's unit_price. {roles_text(WRITE)}",
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderSerializer},
    ),
    update=extend_schema(
        summary="Replace a draft's lines",
        description=f"Only in Draft; invalid lines change nothing. {roles_text(WRITE)}",
        request=PurchaseOrderLinesSerializer,
        responses={200: PurchaseOrderSerializer},
    ),
)
class PurchaseOrderViewSet(
    UUIDLookupMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ServiceUpdateMixin,
    viewsets.GenericViewSet,
):
    """list, retrieve, create, replace lines (PUT), receipts (GET, POST), and receive, close, pay, cancel."""

    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ORDERING_FIELDS
    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "head", "options"]
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "summary": READ,
        "create": WRITE,
        "update": WRITE,
        "receipts": READ,
        "receipt_create": RECEIVE,
        "receive": RECEIVE,
        "close": RECEIVE,
        "pay": PAY,
        "cancel": CANCEL,
    }

    def get_queryset(self):
        # Lines are read with the order only where the answer shows them as they are now.
        return purchase_order_list() if self.action in ("list", "retrieve") else PurchaseOrder.objects.all()

    def get_serializer_class(self):
        if self.action == "create":
            return PurchaseOrderCreateSerializer
        if self.action == "update":
            return PurchaseOrderLinesSerializer
        return PurchaseOrderSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = purchase_order_create(vendor_id=data["vendor_id"], lines=line_requests(data["items"]))

    def perform_update(self, serializer):
        lines = line_requests(serializer.validated_data["items"])
        serializer.instance = purchase_order_lines_replace(order_id=serializer.instance.pk, lines=lines)

    @extend_schema(
        summary="Summarise purchasing",
        description="What the back office's home shows: the receipts recorded on each of the last 30 UTC days (and "
        "their units), and the open replenishment drafts (`status=Draft&origin=replenishment`, one per vendor): "
        "how many, their value, the ten largest. Read-only, three aggregate queries whatever the number of orders; "
        f"takes no parameter. {roles_text(READ)}",
        responses={200: PurchaseSummarySerializer},
    )
    @action(detail=False, methods=["get"], url_path="summary", pagination_class=None, filter_backends=[])
    @home_summary
    def summary(self, request):
        return Response(PurchaseSummarySerializer(purchase_summary()).data)

    @extend_schema(
        summary="List an order's receipts",
        description=f"Oldest first. {roles_text(READ)}",
        request=None,
        responses={200: PurchaseReceiptSerializer(many=True)},
    )
    # The whole (short) list of one order: neither paged nor filtered, and not documented with the orders' filters.
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def receipts(self, request, pk=None):
        receipts = purchase_receipt_list(order_id=self.get_object().pk)
        return Response(PurchaseReceiptSerializer(receipts, many=True).data)

    @extend_schema(
        summary="Record a receipt",
        description="What arrived, from Draft or PartiallyReceived: the order becomes PartiallyReceived, or "
        "Received once every line is complete, and inventory adds the stock of this receipt. An item not on "
        "the order is a 400 naming `items.<n>.item_id`; more than a line still has open is a 409 naming "
        f"`items.<n>.quantity` with ordered, received and open, and changes nothing. {roles_text(RECEIVE)}",
        request=PurchaseReceiptCreateSerializer,
        responses={201: PurchaseReceiptSerializer},
    )
    @receipts.mapping.post
    def receipt_create(self, request, pk=None):
        # The order first, as DRF's update does: an unknown order is a 404 whatever the body.
        order = self.get_object()
        serializer = PurchaseReceiptCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receipt = purchase_order_receipt_create(
            order_id=order.pk,
            items=receipt_requests(serializer.validated_data["items"]),
            actor=actor_of(request.user),
        )
        prefetch_related_objects([receipt], "lines")
        return Response(PurchaseReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)

    # The transitions read the order themselves (locked, in their services: a 404 if there is none), so the
    # path's id goes to them as it is: no get_object() reading the same row once more before.
    @_transition_schema(
        "Receive everything still open",
        "Draft or PartiallyReceived → Received: one receipt of every open unit; inventory adds the stock.",
        RECEIVE,
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        return self._answer(purchase_order_receive(order_id=self.lookup_id(), actor=actor_of(request.user)))

    @_transition_schema(
        "Close a partially received order short",
        "PartiallyReceived → Received with `closed_short: true`: what was not received is no longer expected.",
        RECEIVE,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._answer(purchase_order_close(order_id=self.lookup_id(), actor=actor_of(request.user)))

    @_transition_schema("Mark a received order paid", "Received → Paid.", PAY)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self._answer(purchase_order_pay(order_id=self.lookup_id(), actor=actor_of(request.user)))

    @_transition_schema("Cancel a draft", "Draft → Cancelled.", CANCEL)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._answer(purchase_order_cancel(order_id=self.lookup_id(), actor=actor_of(request.user)))

    def _answer(self, order: PurchaseOrder) -> Response:
        """Answer the order as the transition committed it; its lines are read once, unless already held."""
        prefetch_related_objects([order], "lines")
        return Response(PurchaseOrderSerializer(order).data)


# The internal reads of the owners of an order's references, before they delete one (common.uses).
class ItemOrdersView(OrdersUsingView):
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"get": frozenset({"inventory"})}

    def orders(self, pk):
        return PurchaseOrder.objects.filter(lines__item_id=pk)


class VendorOrdersView(OrdersUsingView):
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"get": frozenset({"contact"})}

    def orders(self, pk):
        return PurchaseOrder.objects.filter(vendor_id=pk)
