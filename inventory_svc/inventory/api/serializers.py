"""Serializers of the inventory API: items, stock, the ledger, and the internal reads."""

from __future__ import annotations

from rest_framework import serializers

from common.fields import StrictUUIDField
from common.money import MoneySerializerField, MoneyTotalSerializerField
from inventory.models import SKU_MAX_LENGTH, MovementReason

MAX_LINES = 100
# Lines of the orders sales confirmed and has not heard back about that one availability check may count: the
# largest body (MAX_LINES items, MAX_PENDING pending lines, every figure its largest) stays under the 1 MiB
# DATA_UPLOAD_MAX_MEMORY_SIZE (about 0.65 MiB); 10,000 lines were 1.2 MiB, a 413 that sales answered with a 502.
MAX_PENDING = 5_000


class ItemSerializer(serializers.Serializer):
    # No docstring: drf-spectacular would publish it as the component's description.
    # Without partial=True (PUT), an omitted description, reorder_level or max_level takes its default.

    id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH, help_text="Stored trimmed and upper-cased; unique.")
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(max_length=2000, allow_blank=True, default="")
    unit_price = MoneySerializerField(min_value=0, help_text="Money: at most 2 decimals, 0 allowed.")
    reorder_level = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, default=0, help_text="`below_reorder_level` lists items at or below it."
    )
    max_level = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        default=0,
        help_text="What purchase_svc's replenishment orders up to once stock falls to `reorder_level` (0: never).",
    )
    active = serializers.BooleanField(
        default=True, help_text="False: archived. Its orders still complete; no new order may name it."
    )
    quantity = serializers.IntegerField(read_only=True, help_text="Stock on hand.")
    backordered = serializers.IntegerField(
        read_only=True, help_text="What confirmed sales orders wait for (their open backorders)."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class StockSerializer(serializers.Serializer):
    item_id = serializers.UUIDField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class StockAdjustmentSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=-(2**31 - 1),
        max_value=2**31 - 1,
        help_text="A signed, non-zero change of the stock on hand (not the new quantity).",
    )
    reason = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Kept on the movement as its note."
    )

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Must be a non-zero change.")
        return value


class StockMovementSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    item_id = serializers.UUIDField(read_only=True)
    change = serializers.IntegerField(read_only=True)
    quantity_after = serializers.IntegerField(read_only=True)
    reason = serializers.ChoiceField(choices=MovementReason.choices, read_only=True)
    reference = serializers.UUIDField(read_only=True, allow_null=True, help_text="The order, or null.")
    receipt_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The purchase order's receipt, or null."
    )
    note = serializers.CharField(read_only=True, help_text="The reason text given with an adjustment.")
    actor = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


# --- internal reads (service tokens) ---------------------------------------------------


class ItemLookupRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=StrictUUIDField(), min_length=1, max_length=MAX_LINES)


class ItemSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    unit_price = MoneySerializerField(read_only=True)
    active = serializers.BooleanField(read_only=True, help_text="False: archived, refused on new orders.")


class AvailabilityLineSerializer(serializers.Serializer):
    item_id = StrictUUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class PendingLineSerializer(serializers.Serializer):
    order_id = StrictUUIDField()
    item_id = StrictUUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class AvailabilityRequestSerializer(serializers.Serializer):
    items = AvailabilityLineSerializer(many=True, min_length=1, max_length=MAX_LINES)
    pending = PendingLineSerializer(
        many=True,
        required=False,
        max_length=MAX_PENDING,
        help_text="Lines of orders the caller confirmed and has not heard back about: those inventory has not "
        "decided yet claim their stock first; a decided one is already in the stock on hand.",
    )


class ShortLineSerializer(serializers.Serializer):
    item_id = serializers.UUIDField(read_only=True)
    requested = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)


class AvailabilitySerializer(serializers.Serializer):
    available = serializers.BooleanField(read_only=True)
    short = ShortLineSerializer(many=True, read_only=True)
    unknown = serializers.ListField(
        child=serializers.UUIDField(),
        read_only=True,
        help_text="The items asked about that inventory does not have (deleted), in the order asked; each is in "
        "`short` too, with nothing available.",
    )


class ItemBelowReorderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="On hand.")
    reorder_level = serializers.IntegerField()
    shortfall = serializers.IntegerField(help_text="`reorder_level` - `quantity`: how far below it (0: at it).")


class BelowReorderLevelSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Active items at or below their reorder level: `GET /items?below_reorder_level=true&active=true`'s "
        "`meta.total`."
    )
    furthest_below = ItemBelowReorderSerializer(many=True, help_text="The ten furthest below, furthest first.")


class WaitingOrderSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    confirmed_at = serializers.DateTimeField()
    units = serializers.IntegerField(help_text="Units the order still waits for, all its items.")
    items = serializers.IntegerField(help_text="How many of its items wait.")


class BackorderSummarySerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="sum of open backordered units.")
    orders = serializers.IntegerField(help_text="Sales orders with an open backorder.")
    oldest = WaitingOrderSerializer(many=True, help_text="The ten orders waiting longest, oldest confirmation first.")


class StockSummarySerializer(serializers.Serializer):
    below_reorder_level = BelowReorderLevelSerializer()
    backorders = BackorderSummarySerializer()
    stock_value = MoneyTotalSerializerField(
        help_text="sum of on hand x unit price, every item (archived ones included)."
    )
