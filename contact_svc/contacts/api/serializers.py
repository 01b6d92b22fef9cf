"""Serializers of the contact API: one shape for customers and vendors.

The per-kind subclasses exist only to give each kind its own OpenAPI component names
(``Customer``/``CustomerRequest``, ``Vendor``/``VendorRequest``).
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_LOOKUP_IDS = 100


class ContactSerializer(serializers.Serializer):
    # No docstring: drf-spectacular would publish it as the component's description.
    # Without partial=True (PUT), an omitted phone or address takes its default: blank.

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=255)
    email = serializers.EmailField(max_length=254, help_text="Stored lower-cased; unique within its kind.")
    phone = serializers.CharField(max_length=50, allow_blank=True, default="")
    address = serializers.CharField(max_length=500, allow_blank=True, default="")
    active = serializers.BooleanField(
        default=True, help_text="False: archived. Its orders still complete; no new order may name it."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class CustomerSerializer(ContactSerializer):
    pass


class VendorSerializer(ContactSerializer):
    pass


@extend_schema_field(OpenApiTypes.STR)
class IdsField(serializers.Field):
    """Comma-separated UUIDs (``?ids=a,b``), also accepted as repeated parameters."""

    default_error_messages = {
        "empty": "Give at least one id.",
        "too_many": f"At most {MAX_LOOKUP_IDS} ids.",
        "invalid": "'{value}' is not a valid UUID.",
    }

    def to_internal_value(self, data) -> list[uuid.UUID]:
        values = data if isinstance(data, list) else [data]
        parts = [part.strip() for value in values for part in str(value).split(",") if part.strip()]
        if not parts:
            self.fail("empty")
        if len(parts) > MAX_LOOKUP_IDS:
            self.fail("too_many")
        ids = []
        for part in parts:
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                self.fail("invalid", value=part)
        return ids


class ContactLookupQuerySerializer(serializers.Serializer):
    ids = IdsField(help_text=f"Comma-separated ids, at most {MAX_LOOKUP_IDS}; unknown ids are left out.")

    def to_internal_value(self, data):
        # A QueryDict hands a field only the last of repeated values; give it all of them.
        if hasattr(data, "getlist"):
            data = {"ids": data.getlist("ids")} if "ids" in data else {}
        return super().to_internal_value(data)
