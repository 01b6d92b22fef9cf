from decimal import Decimal

import pytest
from rest_framework import serializers

from common.money import MoneyField, MoneySerializerField, quantize_money


@pytest.mark.parametrize(
    ("given", "expected"),
    [(Decimal("10"), Decimal("10.00")), ("0.105", Decimal("0.11")), (7, Decimal("7.00")), ("19.994", Decimal("19.99"))],
)
def test_quantize_money_gives_two_places(given, expected):
    result = quantize_money(given)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("given", [1.1, "abc", "NaN", "Infinity", None])
def test_quantize_money_refuses_floats_and_non_amounts(given):
    with pytest.raises((TypeError, ValueError)):
        quantize_money(given)


def test_money_field_is_numeric_14_2_and_deconstructs_without_numbers():
    field = MoneyField()
    assert (field.max_digits, field.decimal_places) == (14, 2)
    _, path, _, kwargs = field.deconstruct()
    assert path == "common.money.MoneyField"
    assert "max_digits" not in kwargs and "decimal_places" not in kwargs


class _PriceSerializer(serializers.Serializer):
    price = MoneySerializerField(min_value=Decimal("0"))


def test_money_serializer_field_refuses_three_decimals_and_renders_a_number():
    assert not _PriceSerializer(data={"price": "1.234"}).is_valid()
    valid = _PriceSerializer(data={"price": "1.5"})
    assert valid.is_valid()
    assert valid.validated_data["price"] == Decimal("1.5")
    assert _PriceSerializer({"price": Decimal("1.50")}).data["price"] == Decimal("1.50")
