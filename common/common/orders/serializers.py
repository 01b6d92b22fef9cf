"""The API's shape of an order document: its lines, the lines a caller sends, the common fields.

A service's serializers subclass these and add their party (``customer_id``,
``customer_name``) and their own fields; the object is flat, lines under ``items``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.money import MoneySerializerField

from .models import MAX_LINES

MAX_QUANTITY = 1_000_000


class OrderLineSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    item_id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = MoneySerializerField(read_only=True)
    subtotal = MoneySerializerField(read_only=True)


# Documented as ``LineRequest`` (drf-spectacular adds "Request" to request components), not ``LineRequestRequest``.
@extend_schema_serializer(component_name="Line")
class LineRequestSerializer(serializers.Serializer):
    item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneySerializerField(
        min_value=0, required=False, help_text="Defaults to the item's current unit_price."
    )


class OrderLinesSerializer(serializers.Serializer):
    # ``{items: [...]}``: what ``PUT /orders/{id}`` takes, and the base of a create body. It reads
    # the request; the answer is the order as ``output_serializer_class`` shows it (the view's hook
    # puts the service's order in ``serializer.instance``). A comment, not a docstring:
    # drf-spectacular would publish a docstring as the component's description.

    output_serializer_class: type[serializers.Serializer]

    items = LineRequestSerializer(many=True, min_length=1, max_length=MAX_LINES)

    def to_representation(self, instance):
        return self.output_serializer_class(instance, context=self.context).data


class OrderSerializer(serializers.Serializer):
    # A service's serializer declares ``status`` as a ChoiceField of its own statuses (an enum in the
    # document) and its own timestamps; every timestamp but created/updated is null until it happens.
    id = serializers.UUIDField(read_only=True)
    status = serializers.CharField(read_only=True)
    total_amount = MoneySerializerField(read_only=True)
    items = OrderLineSerializer(source="lines", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    paid_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
