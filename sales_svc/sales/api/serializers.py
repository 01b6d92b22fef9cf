"""Serializers of the sales order API: the order as answered (lines under ``items``), and the bodies it takes.

``POST /orders`` takes ``{customer_id, items: [...]}``, ``PUT /orders/{id}`` takes ``{items: [...]}``;
both answer the order as :class:`SalesOrderSerializer` shows it (the view's hook puts the
service's order in ``serializer.instance``). Every timestamp but created/updated is null until
it happens.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.money import MoneySerializerField, MoneyTotalSerializerField
from order_documents.models import MAX_LINES, MAX_QUANTITY
from sales.models import SalesOrder


# Published as ``OrderLine``, the component name both order services' documents share.
class OrderLineSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    item_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = MoneySerializerField(read_only=True)
    subtotal = MoneySerializerField(read_only=True)


class SalesOrderLineSerializer(OrderLineSerializer):
    quantity_issued = serializers.IntegerField(read_only=True, help_text="Shipped so far (inventory's figure).")
    quantity_backordered = serializers.IntegerField(read_only=True, help_text="Still waiting for stock.")


class SalesOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=SalesOrder.Status.choices, read_only=True)
    total_amount = MoneySerializerField(read_only=True)
    items = SalesOrderLineSerializer(source="lines", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    paid_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    customer_id = serializers.UUIDField(read_only=True)
    customer_name = serializers.CharField(read_only=True)
    stock_status = serializers.ChoiceField(
        choices=SalesOrder.StockStatus.choices,
        read_only=True,
        allow_null=True,
        help_text="null while a draft; pending, issued, short, backordered or returned after.",
    )
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    allow_backorder = serializers.BooleanField(read_only=True)


# Documented as ``LineRequest`` (drf-spectacular adds "Request" to request components), not ``LineRequestRequest``.
@extend_schema_serializer(component_name="Line")
class LineRequestSerializer(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneySerializerField(
        min_value=0, required=False, help_text="Defaults to the item's current unit_price."
    )


class SalesOrderLinesSerializer(serializers.Serializer):
    items = LineRequestSerializer(many=True, min_length=1, max_length=MAX_LINES)
    allow_backorder = serializers.BooleanField(
        required=False,
        help_text="Ship what is on hand at confirmation and let the rest wait for stock (default false; "
        "a PUT without it keeps the order's).",
    )

    def to_representation(self, instance):
        return SalesOrderSerializer(instance, context=self.context).data


class SalesOrderCreateSerializer(SalesOrderLinesSerializer):
    customer_id = serializers.UUIDField()


class StuckOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_name = serializers.CharField()
    confirmed_at = serializers.DateTimeField()
    total_amount = MoneySerializerField()


class StuckPendingSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Confirmed orders still waiting for inventory's answer (`pending`).")
    older_than_seconds = serializers.FloatField(help_text="For longer than this (`SALES_PENDING_STUCK_AFTER`).")
    oldest = StuckOrderSerializer(many=True, help_text="The ten waiting longest, oldest first.")


class ConfirmedDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A UTC day.")
    orders = serializers.IntegerField(help_text="Orders confirmed that day (whatever became of them since).")
    amount = MoneyTotalSerializerField(help_text="sum of their totals.")


class SalesSummarySerializer(serializers.Serializer):
    stuck_pending = StuckPendingSerializer()
    confirmed_per_day = ConfirmedDaySerializer(many=True, help_text="The last 30 UTC days, oldest first, today last.")
