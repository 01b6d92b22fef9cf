"""Serializers of the sales order API: the order as answered, and the create body."""

from __future__ import annotations

from rest_framework import serializers

from common.orders.serializers import OrderLinesSerializer, OrderSerializer
from sales.models import SalesOrder


class SalesOrderSerializer(OrderSerializer):
    status = serializers.ChoiceField(choices=SalesOrder.Status.choices, read_only=True)
    customer_id = serializers.UUIDField(read_only=True)
    customer_name = serializers.CharField(read_only=True)
    stock_status = serializers.ChoiceField(
        choices=SalesOrder.StockStatus.choices,
        read_only=True,
        allow_null=True,
        help_text="null while a draft; pending, issued, short or returned after.",
    )
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SalesOrderLinesSerializer(OrderLinesSerializer):
    output_serializer_class = SalesOrderSerializer


class SalesOrderCreateSerializer(SalesOrderLinesSerializer):
    customer_id = serializers.UUIDField()
