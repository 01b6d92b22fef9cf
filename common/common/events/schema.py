"""Turn event ``data`` into the frozen dataclass its type declares, and back, strictly.

An event's ``data`` is declared once, in :mod:`common.events.registry`, as a frozen
dataclass whose fields are annotated with one of:

- ``uuid.UUID``: a UUID or its string form;
- ``str`` and ``int`` (``bool`` is not an ``int`` here, and ``"5"`` is not one either);
  an ``int`` fits a PostgreSQL ``bigint``, so a handler can store any value it is given;
- ``bool``: JSON ``true`` or ``false`` only (``1`` and ``"true"`` are refused);
- ``Decimal``: money. A ``Decimal`` or an ``int`` with at most two places (``float`` and
  strings are refused) that fits NUMERIC(14,2), returned through
  :func:`common.money.quantize_money`, so a handler always gets ``Decimal("10.00")``,
  whether the wire said ``10`` or ``10.00``, and never one its column cannot hold
  (a handler's write of ``1e20`` would fail and be retried until the dead-letter queue);
- another such dataclass (a nested object), or ``tuple[Line, ...]`` (a list of them).

:func:`to_data` accepts an instance or a mapping and checks it either way: exactly
the declared fields, nothing missing, nothing extra. A mismatch raises
:class:`DataMismatch` naming the dotted path (``items.0.unit_price``), which the
publisher reports as ``EventDataError`` and the consumer as a poison message.
Why not DRF serializers: they accept ``"5"`` for an integer and hand out dicts; a
handler reads ``event.data.items[0].unit_price`` and a type checker follows it.
"""

from __future__ import annotations

import dataclasses
import functools
import reprlib
import typing
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..money import DECIMAL_PLACES, MAX_DIGITS, quantize_money

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MONEY_LIMIT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)  # NUMERIC(14,2) holds less than this

# A mismatch names the offending value, shortened: a 10 MB string must not become a 10 MB reason.
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlong = 40
_short = _repr.repr


class DataMismatch(ValueError):
    """The data does not have the declared shape; ``path`` is where (dotted)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path or 'data'}: {message}")
        self.path = path
        self.message = message


def to_data(cls: type, value: Any, path: str = "") -> Any:
    """Return ``value`` (a ``cls`` instance or a mapping) as a checked ``cls`` instance."""
    if isinstance(value, cls):
        value = to_primitive(value)
    if not isinstance(value, Mapping):
        raise DataMismatch(path, f"expected an object, got {type(value).__name__}")
    hints = _hints(cls)
    missing = [name for name in hints if name not in value]
    extra = sorted(str(name) for name in value if name not in hints)
    if missing or extra:
        raise DataMismatch(path, f"missing fields {missing}, unexpected fields {extra}")
    return cls(**{name: _convert(hint, value[name], _join(path, name)) for name, hint in hints.items()})


def to_primitive(instance: Any) -> dict[str, Any]:
    """Return a data instance as plain dicts, lists and scalars (what ``jsonenc`` writes)."""
    return {field.name: _primitive(getattr(instance, field.name)) for field in dataclasses.fields(instance)}


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(_hints(cls))


def check_declaration(cls: type) -> None:
    """Raise TypeError unless ``cls`` is a frozen dataclass of supported field types."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__} must be a frozen dataclass")
    for name, hint in _hints(cls).items():
        if _line_type(hint) is not None:
            check_declaration(_line_type(hint))
        elif dataclasses.is_dataclass(hint):
            check_declaration(hint)
        elif hint not in _SCALARS:
            raise TypeError(f"{cls.__name__}.{name}: unsupported type {hint!r}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def _line_type(hint: Any) -> type | None:
    """``Line`` for ``tuple[Line, ...]``, else None."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def _convert(hint: Any, value: Any, path: str) -> Any:
    line = _line_type(hint)
    if line is not None:
        if not isinstance(value, (list, tuple)):
            raise DataMismatch(path, f"expected a list, got {type(value).__name__}")
        return tuple(to_data(line, item, _join(path, index)) for index, item in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return to_data(hint, value, path)
    return _SCALARS[hint](value, path)


def _uuid(value: Any, path: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise DataMismatch(path, f"expected a UUID, got {_short(value)}")


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise DataMismatch(path, f"expected a string, got {type(value).__name__}")
    return value


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataMismatch(path, f"expected an integer, got {_short(value)}")
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise DataMismatch(path, f"integer out of range (64 bits), got {_short(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise DataMismatch(path, f"expected true or false, got {_short(value)}")
    return value


def _money(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise DataMismatch(path, f"expected an exact amount (Decimal or integer), got {_short(value)}")
    if isinstance(value, Decimal) and (not value.is_finite() or value.as_tuple().exponent < -2):
        raise DataMismatch(path, f"expected an amount with at most 2 decimals, got {_short(value)}")
    # Compared before quantizing, which raises InvalidOperation past 28 digits (1e999999).
    if not -MONEY_LIMIT < value < MONEY_LIMIT:
        raise DataMismatch(path, f"amount out of range of NUMERIC({MAX_DIGITS},{DECIMAL_PLACES}): {_short(value)}")
    return quantize_money(value)


_SCALARS: dict[Any, Any] = {uuid.UUID: _uuid, str: _str, int: _int, bool: _bool, Decimal: _money}


def _primitive(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_primitive(value)
    if isinstance(value, tuple):
        return [_primitive(item) for item in value]
    return value


__all__ = ["DataMismatch", "check_declaration", "field_names", "to_data", "to_primitive"]
