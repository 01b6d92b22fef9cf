"""Money, in one home: exact decimals with two places (contract §2).

Money is held as ``Decimal`` end to end and stored as NUMERIC(14,2). Every place that
computes, stores, serialises or receives an amount goes through these names, so a
total is computed the same way in a serializer, a service and an event handler.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from rest_framework import serializers

MAX_DIGITS = 14
DECIMAL_PLACES = 2
# A sum of amounts (a summary's total) may outgrow one amount's NUMERIC(14,2): a few large orders, or
# stock worth more than a trillion. Answered to this many digits (PostgreSQL's sums are exact at any width).
TOTAL_MAX_DIGITS = 40
CENT = Decimal("0.01")


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as a Decimal with exactly two places (half up, as invoices round).

    Floats are refused: they are how money stops being exact.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class MoneyField(models.DecimalField):
    """A NUMERIC(14,2) column."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        # Migrations name this field, not a DecimalField with numbers copied into them.
        for key, default in (("max_digits", MAX_DIGITS), ("decimal_places", DECIMAL_PLACES)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs


class MoneySerializerField(serializers.DecimalField):
    """A JSON number with at most two decimals, read and written as ``Decimal``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        # "-0.00" is zero: adding 0 drops the sign, which NUMERIC would drop on save anyway,
        # so the response to a write shows what a later read shows (0.0, not -0.0).
        return super().to_internal_value(data) + 0


class MoneyTotalSerializerField(MoneySerializerField):
    """A sum of amounts, read-only: as :class:`MoneySerializerField`, but never too large to answer (a 500)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", TOTAL_MAX_DIGITS)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
