"""Serializer fields stricter than DRF's where a lenient parse could grant something."""

from __future__ import annotations

from rest_framework import serializers


class StrictChoiceField(serializers.ChoiceField):
    """A ``ChoiceField`` that takes exactly one of its choices, as a JSON string, and nothing else.

    DRF's compares ``str(value)``: an uploaded file named ``admin``, or any object whose
    text happens to be a choice, would pass. Here a list, an object, a number or a file
    is refused, and so is a padded or differently cased string: no trimming, no folding.
    """

    default_error_messages = {"invalid_type": "Must be a string, one of: {choices}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_type", choices=", ".join(str(choice) for choice in self.choices))
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A ``UUIDField`` that takes a UUID only as a JSON string.

    DRF's reads a JSON number as ``UUID(int=n)``: ``1`` would become
    ``00000000-0000-0000-0000-000000000001`` and pass as an id (contract §2: ids are UUIDs).
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)
