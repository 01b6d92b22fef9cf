"""Encode event payloads as JSON without losing precision.

``Decimal`` becomes a JSON *number* written digit for digit (money is a number in
the contract, never a float on the way), ``UUID`` a string, aware ``datetime`` and
``date`` ISO 8601 strings. Naive datetimes, NaN and infinities are refused: they
cannot be read back unambiguously. :func:`loads` parses numbers with a fraction as
``Decimal`` so a consumer gets back exactly what was sent.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

_dump_str = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def _encode(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        out.append(_dump_str(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode non-finite Decimal {value!r} as JSON")
        out.append(str(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot encode non-finite float {value!r} as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, uuid.UUID):
        out.append(f'"{value}"')
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"cannot encode naive datetime {value!r}: give it a time zone")
        out.append(f'"{value.isoformat()}"')
    elif isinstance(value, (dt.date, dt.time)):
        out.append(f'"{value.isoformat()}"')
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
            if index:
                out.append(",")
            out.append(_dump_str(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON: {value!r}")
