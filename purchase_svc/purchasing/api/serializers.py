"""Serializers of the purchase order API: the order as answered, and the create body."""

from __future__ import annotations

from rest_framework import serializers

from common.orders.serializers import OrderLinesSerializer, OrderSerializer
from purchasing.models import PurchaseOrder


class PurchaseOrderSerializer(OrderSerializer):
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices, read_only=True)
    vendor_id = serializers.UUIDField(read_only=True)
    vendor_name = serializers.CharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PurchaseOrderLinesSerializer(OrderLinesSerializer):
    output_serializer_class = PurchaseOrderSerializer


class PurchaseOrderCreateSerializer(PurchaseOrderLinesSerializer):
    vendor_id = serializers.UUIDField()
