"""The REST API of items, their stock and ledger, and the internal reads other services make.

Views parse, call one selector or service, render. Roles come from common.roles
through ``required_permissions``. Service tokens are accepted only on the internal
reads (``POST /internal/items/lookup``, ``POST /internal/stock/availability``),
which in turn accept nothing else, and on the item list of sales and purchase (their
admins' order entry searches it, for a staff member allowed to read items).
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from common.authentication import actor_of, home_summary
from common.csvviews import CsvImportExportMixin, export_schema, import_schema
from common.roles import role_has_permission, roles_text
from common.views import ServiceModelViewSet
from inventory import imports
from inventory.filters import ORDERING_FIELDS, SEARCH_FIELDS, ItemFilter
from inventory.lines import PendingLine, StockLine
from inventory.selectors import (
    item_list,
    item_list_by_ids,
    item_stock_summary,
    movement_list,
    stock_availability,
    stock_get,
)
from inventory.services import item_create, item_delete, item_update, stock_adjust

from . import serializers as s

ITEMS_READ, ITEMS_WRITE, ITEMS_DELETE = "items.read", "items.write", "items.delete"
STOCK_READ, STOCK_ADJUST = "stock.read", "stock.adjust"


_NEW_ITEM = {
    "sku": "mon-27-4k",
    "name": "27-inch 4K monitor",
    "description": "IPS panel, USB-C 65 W",
    "unit_price": 329.90,
    "reorder_level": 5,
}


@extend_schema_view(
    list=extend_schema(
        summary="List items",
        description=f"Paginated, newest first unless `ordering` says otherwise; `quantity` is the stock on hand. "
        f"{roles_text(ITEMS_READ)} Service tokens of sales and purchase are accepted too (their admins search it).",
    ),
    retrieve=extend_schema(summary="Get an item", description=roles_text(ITEMS_READ)),
    create=extend_schema(
        summary="Create an item",
        description="The SKU is trimmed and upper-cased; a duplicate is a 409. The item's stock is created at 0 "
        f"in the same transaction. {roles_text(ITEMS_WRITE)}",
        examples=[OpenApiExample("New item", value=_NEW_ITEM, request_only=True)],
    ),
    update=extend_schema(
        summary="Replace an item",
        description="Every field is replaced: omitted `description`/`reorder_level`/`max_level` take their defaults. "
        f"Stock is changed only through `/items/{{id}}/stock`. {roles_text(ITEMS_WRITE)}",
    ),
    partial_update=extend_schema(
        summary="Amend an item", description=f"Only the fields given change. {roles_text(ITEMS_WRITE)}"
    ),
    destroy=extend_schema(
        summary="Delete an item",
        description="409 while stock is on hand, or once the item has stock movements (its ledger is kept). "
        f"{roles_text(ITEMS_DELETE)}",
        responses={204: None},
    ),
    import_csv=import_schema(
        noun="items",
        columns=",".join(imports.COLUMNS),
        key="sku",
        extra="`sku` and `name` are required for a new item. `quantity` sets the stock on hand to that number "
        "by one `adjustment` movement of the difference (none if equal), its note naming the import: opening "
        "stock and stock counts alike. ",
        roles=f"{roles_text(ITEMS_WRITE)} A file that gives a `quantity` needs `{STOCK_ADJUST}` too.",
    ),
    export_csv=export_schema(noun="items", roles=roles_text(ITEMS_READ)),
)
class ItemViewSet(CsvImportExportMixin, ServiceModelViewSet):
    serializer_class = s.ItemSerializer
    filterset_class = ItemFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ORDERING_FIELDS
    required_permissions: ClassVar[dict[str, str]] = {
        "list": ITEMS_READ,
        "retrieve": ITEMS_READ,
        "create": ITEMS_WRITE,
        "update": ITEMS_WRITE,
        "partial_update": ITEMS_WRITE,
        "destroy": ITEMS_DELETE,
        "stock": STOCK_READ,
        "stock_adjust": STOCK_ADJUST,
        "movements": STOCK_READ,
        "summary": STOCK_READ,
        "import_csv": ITEMS_WRITE,
        "export_csv": ITEMS_READ,
    }
    # The order services' admins search items for a new line (order_documents.references.items_search).
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"list": frozenset({"sales", "purchase"})}
    csv_filename = "items.csv"

    def get_queryset(self):
        return item_list()

    def csv_import(self, *, data, dry_run):
        may_adjust = role_has_permission(getattr(self.request.user, "role", None), STOCK_ADJUST)
        return imports.item_import(data=data, actor=actor_of(self.request.user), dry_run=dry_run, may_adjust=may_adjust)

    def csv_export(self, queryset):
        return imports.item_export(items=queryset)

    def perform_create(self, serializer):
        serializer.instance = item_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = item_update(item=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        item_delete(item=instance)

    @extend_schema(
        summary="Summarise stock",
        description="What the back office's home shows: the active items at or below their reorder level (how "
        "many, the ten furthest below), what confirmed sales orders wait for (open backorders: units, orders, the "
        "ten waiting longest) and the value of the stock on hand. Read-only, a few aggregate queries whatever the "
        f"number of items; takes no parameter. {roles_text(STOCK_READ)}",
        responses={200: s.StockSummarySerializer},
    )
    @action(detail=False, methods=["get"], url_path="summary", pagination_class=None, filter_backends=[])
    @home_summary
    def summary(self, request):
        return Response(s.StockSummarySerializer(item_stock_summary()).data)

    # The item's stock and ledger are not filtered by the item list's parameters.
    @extend_schema(
        summary="Get an item's stock", description=roles_text(STOCK_READ), responses={200: s.StockSerializer}
    )
    @action(detail=True, methods=["get"], url_path="stock", pagination_class=None, filter_backends=[])
    def stock(self, request, pk=None):
        return Response(s.StockSerializer(stock_get(item=self.get_object())).data)

    @extend_schema(
        summary="Adjust an item's stock",
        description="`quantity` is a signed, non-zero change (as in the original API), recorded in the ledger "
        "with reason `adjustment` and the optional `reason` text as its note. A result below zero is a 409 and "
        f"changes nothing. {roles_text(STOCK_ADJUST)}",
        request=s.StockAdjustmentSerializer,
        responses={200: s.StockSerializer},
        examples=[OpenApiExample("Count correction", value={"quantity": -2, "reason": "stocktake"}, request_only=True)],
    )
    @stock.mapping.put
    def stock_adjust(self, request, pk=None):
        item = self.get_object()
        payload = s.StockAdjustmentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        stock_adjust(
            changes={item.pk: payload.validated_data["quantity"]},
            note=payload.validated_data["reason"],
            actor=actor_of(request.user),
        )
        return Response(s.StockSerializer(stock_get(item=item)).data)

    @extend_schema(
        summary="List an item's stock movements",
        description="The stock ledger, newest first; on hand always equals the sum of `change`. "
        f"{roles_text(STOCK_READ)}",
        responses={200: s.StockMovementSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], url_path="movements", filter_backends=[])
    def movements(self, request, pk=None):
        movements = self.paginate_queryset(movement_list(item=self.get_object()))
        return self.get_paginated_response(s.StockMovementSerializer(movements, many=True).data)


class InternalView(APIView):
    """Base of the internal reads: service tokens of the callers named, every user role refused."""

    required_permissions: ClassVar[dict[str, str]] = {}
    service_actions: ClassVar[dict[str, frozenset[str]]] = {}


_SERVICE_ONLY = "Internal: service tokens only (not routed by the gateway); a user's token is a 403."


class ItemLookupView(InternalView):
    # The order services price and check an order's lines.
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"post": frozenset({"sales", "purchase"})}

    @extend_schema(
        operation_id="internal_items_lookup",
        summary="Get several items by id",
        description=f"1 to {s.MAX_LINES} ids; the items found, in the order asked (unknown ids are simply absent). "
        f"{_SERVICE_ONLY}",
        request=s.ItemLookupRequestSerializer,
        responses={200: s.ItemSummarySerializer(many=True)},
    )
    def post(self, request):
        payload = s.ItemLookupRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        items = item_list_by_ids(ids=payload.validated_data["ids"])
        return Response(s.ItemSummarySerializer(items, many=True).data)


class StockAvailabilityView(InternalView):
    # Sales checks stock before it confirms; nobody else asks.
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"post": frozenset({"sales"})}

    @extend_schema(
        operation_id="internal_stock_availability",
        summary="Check stock for order lines",
        description=f"1 to {s.MAX_LINES} lines; quantities of one item are added up; an unknown item counts as 0 "
        f"available and is named in `unknown` too. Up to {s.MAX_PENDING} `pending` lines of orders the caller "
        f"confirmed: those not decided yet count against the stock, read in one snapshot with the decisions. A read "
        f"without locks: the issue itself decides. {_SERVICE_ONLY}",
        request=s.AvailabilityRequestSerializer,
        responses={200: s.AvailabilitySerializer},
    )
    def post(self, request):
        payload = s.AvailabilityRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lines = [StockLine(**line) for line in payload.validated_data["items"]]
        pending = [PendingLine(**line) for line in payload.validated_data.get("pending", [])]
        return Response(s.AvailabilitySerializer(stock_availability(lines=lines, pending=pending)).data)
