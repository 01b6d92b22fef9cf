"""The REST API of vendor items (``/vendor-items``) and of the items replenishment cannot order (``/replenishment``).

Vendor items: list, read, create, replace (PUT), amend (PATCH), delete, each write calling one
service of :mod:`purchasing.vendor_items`. Everyone signed in reads (``orders.read``); an
inventory or finance manager writes (``vendor_items.write``). ``/replenishment`` lists the items
whose last low-stock event asked for more than is on order while no vendor item of theirs is
preferred (:func:`purchasing.selectors.replenishment_need_list`).
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from common.money import MoneySerializerField
from common.roles import roles_text
from common.views import ServiceModelViewSet
from order_documents.models import MAX_QUANTITY
from purchasing.filters import VENDOR_ITEM_ORDERING_FIELDS, VENDOR_ITEM_SEARCH_FIELDS, VendorItemFilter
from purchasing.selectors import replenishment_need_list, vendor_item_list
from purchasing.vendor_items import vendor_item_create, vendor_item_delete, vendor_item_update

READ, WRITE = "orders.read", "vendor_items.write"


class VendorItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    vendor_id = serializers.UUIDField(help_text="Checked with contact_svc; fixed once created.")
    vendor_name = serializers.CharField(read_only=True)
    item_id = serializers.UUIDField(help_text="Checked with inventory_svc; fixed once created.")
    sku = serializers.CharField(read_only=True, help_text="The item's SKU.")
    vendor_sku = serializers.CharField(max_length=64, allow_blank=True, default="", help_text="The vendor's own code.")
    unit_cost = MoneySerializerField(min_value=0, help_text="What the vendor charges a unit: the lines' price.")
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, default=0)
    min_order_quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    pack_size = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, default=1, help_text="Replenishment orders whole packs."
    )
    preferred = serializers.BooleanField(
        default=False, help_text="The vendor replenishment orders the item from; setting it unsets the item's other."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class VendorItemUpdateSerializer(VendorItemSerializer):
    vendor_id = serializers.UUIDField(read_only=True)
    item_id = serializers.UUIDField(read_only=True)


class ReplenishmentNeedSerializer(serializers.Serializer):
    item_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True, help_text="On hand, at the last low-stock event.")
    backordered = serializers.IntegerField(read_only=True, help_text="Waited for, at the last low-stock event.")
    reorder_level = serializers.IntegerField(read_only=True)
    max_level = serializers.IntegerField(read_only=True)
    on_order = serializers.IntegerField(read_only=True, help_text="Open on Draft and PartiallyReceived orders now.")
    needed = serializers.IntegerField(read_only=True, help_text="max_level + backordered - quantity - on_order.")
    updated_at = serializers.DateTimeField(read_only=True, help_text="When the last low-stock event was applied.")


@extend_schema_view(
    list=extend_schema(summary="List vendor items", description=f"Newest first. {roles_text(READ)}"),
    retrieve=extend_schema(summary="Get a vendor item", description=roles_text(READ)),
    create=extend_schema(
        summary="Create a vendor item",
        description="The vendor and the item are checked with their services (400 naming the field); a second "
        f"vendor item of one vendor and item is a 409. {roles_text(WRITE)}",
    ),
    update=extend_schema(
        summary="Replace a vendor item",
        description=f"Every editable field is replaced; vendor and item stay. {roles_text(WRITE)}",
    ),
    partial_update=extend_schema(summary="Amend a vendor item", description=roles_text(WRITE)),
    destroy=extend_schema(summary="Delete a vendor item", description=roles_text(WRITE), responses={204: None}),
)
class VendorItemViewSet(ServiceModelViewSet):
    serializer_class = VendorItemSerializer
    filterset_class = VendorItemFilter
    search_fields = VENDOR_ITEM_SEARCH_FIELDS
    ordering_fields = VENDOR_ITEM_ORDERING_FIELDS
    required_permissions: ClassVar[dict[str, str]] = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "update": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
    }

    def get_queryset(self):
        return vendor_item_list()

    def get_serializer_class(self):
        return VendorItemUpdateSerializer if self.action in ("update", "partial_update") else VendorItemSerializer

    def perform_create(self, serializer):
        serializer.instance = vendor_item_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = vendor_item_update(vendor_item_id=serializer.instance.pk, data=serializer.validated_data)

    def perform_destroy(self, instance):
        vendor_item_delete(vendor_item_id=instance.pk)


@extend_schema_view(
    list=extend_schema(
        summary="List the items replenishment cannot order",
        description="Items whose last low-stock event asked for more than is on order while none of their vendor "
        f"items is preferred, with what they need. {roles_text(READ)}",
    )
)
class ReplenishmentNeedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReplenishmentNeedSerializer
    search_fields = ("sku",)
    ordering_fields = ("sku", "needed", "updated_at")
    required_permissions: ClassVar[dict[str, str]] = {"list": READ}

    def get_queryset(self):
        return replenishment_need_list()
