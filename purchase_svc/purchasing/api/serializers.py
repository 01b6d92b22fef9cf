"""Serializers of the purchase order API: the order as answered (lines under ``items``), its receipts, and the bodies.

``POST /orders`` takes ``{vendor_id, items: [...]}``, ``PUT /orders/{id}`` takes ``{items: [...]}``;
both answer the order as :class:`PurchaseOrderSerializer` shows it (the view's hook puts the
service's order in ``serializer.instance``). Every timestamp but created/updated is null until
it happens. ``POST /orders/{id}/receipts`` takes ``{items: [{item_id, quantity}]}`` and answers
the receipt as :class:`PurchaseReceiptSerializer` shows it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.money import MoneySerializerField, MoneyTotalSerializerField
from order_documents.models import MAX_LINES, MAX_QUANTITY
from purchasing.models import PurchaseOrder


# Published as ``OrderLine``, the component name both order services' documents share.
class OrderLineSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    item_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = MoneySerializerField(read_only=True)
    subtotal = MoneySerializerField(read_only=True)
    quantity_received = serializers.IntegerField(read_only=True)


class PurchaseOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices, read_only=True)
    total_amount = MoneySerializerField(read_only=True)
    items = OrderLineSerializer(source="lines", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    paid_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    vendor_id = serializers.UUIDField(read_only=True)
    vendor_name = serializers.CharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)
    received_amount = MoneySerializerField(
        read_only=True, help_text="sum of quantity_received x unit_price: what is payable."
    )
    closed_short = serializers.BooleanField(
        read_only=True, help_text="Received by closing it: what was not received is no longer expected."
    )
    origin = serializers.ChoiceField(
        choices=PurchaseOrder.Origin.choices,
        read_only=True,
        help_text="`manual` (made by a person) or `replenishment` (raised by low stock; an ordinary draft).",
    )
    stock_refused_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When inventory first refused to stock one of its receipts (an item it no longer has); null: none.",
    )


class ReceiptLineSerializer(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class PurchaseReceiptSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    order_id = serializers.UUIDField(read_only=True)
    items = ReceiptLineSerializer(source="lines", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    stock_refused_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Set when inventory refused to stock this receipt; null: stocked."
    )


# A body only: the view answers the receipt the service wrote as PurchaseReceiptSerializer.
class PurchaseReceiptCreateSerializer(serializers.Serializer):
    items = ReceiptLineSerializer(many=True, min_length=1, max_length=MAX_LINES)


# Documented as ``LineRequest`` (drf-spectacular adds "Request" to request components), not ``LineRequestRequest``.
@extend_schema_serializer(component_name="Line")
class LineRequestSerializer(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneySerializerField(
        min_value=0, required=False, help_text="Defaults to the item's current unit_price."
    )


class PurchaseOrderLinesSerializer(serializers.Serializer):
    items = LineRequestSerializer(many=True, min_length=1, max_length=MAX_LINES)

    def to_representation(self, instance):
        return PurchaseOrderSerializer(instance, context=self.context).data


class PurchaseOrderCreateSerializer(PurchaseOrderLinesSerializer):
    vendor_id = serializers.UUIDField()


class ReceiptDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A UTC day.")
    receipts = serializers.IntegerField(help_text="Receipts recorded that day.")
    units = serializers.IntegerField(help_text="sum of the units they received.")


class ReplenishmentDraftSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    vendor_id = serializers.UUIDField()
    vendor_name = serializers.CharField()
    lines_count = serializers.IntegerField()
    total_amount = MoneySerializerField()
    created_at = serializers.DateTimeField()


class ReplenishmentDraftsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="`GET /orders?status=Draft&origin=replenishment`'s `meta.total`.")
    amount = MoneyTotalSerializerField(help_text="sum of their totals.")
    largest = ReplenishmentDraftSerializer(many=True, help_text="The ten of largest value, largest first.")


class PurchaseSummarySerializer(serializers.Serializer):
    receipts_per_day = ReceiptDaySerializer(many=True, help_text="The last 30 UTC days, oldest first, today last.")
    replenishment_drafts = ReplenishmentDraftsSerializer()
