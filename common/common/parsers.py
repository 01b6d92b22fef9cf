"""The API's JSON parser: strict JSON with a nesting limit and no duplicate keys.

DRF's own parser hands the body to :func:`json.load`, whose C scanner recurses once per
level: a body of a thousand ``[`` is a ``RecursionError`` and a 500 with a traceback.
Here anything nested deeper than :attr:`JSONParser.max_depth` is a 400 ``bad_request``
(contract §2), and so is an object that names a key twice: two readers of the same body
(a proxy, a log, this parser) must never disagree about which ``role`` it carries.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far deeper than any request shape of the platform (an order line is at depth 3).
MAX_DEPTH = 32


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: build the object, refusing a key named twice (at any depth)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    """``parse_constant``: ``NaN`` and ``Infinity`` are Python's extensions, not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """Return True if arrays and objects in ``value`` nest deeper than ``limit`` (iteratively, no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """Parse a JSON body; malformed, too deep, or with a repeated key: 400 ``bad_request``."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels.") from None
        except _DuplicateKey as exc:
            raise ParseError(f"JSON parse error - {exc}.") from None
        except ValueError as exc:  # JSONDecodeError and undecodable bytes alike
            raise ParseError(f"JSON parse error - {exc}") from None
        if nesting_depth_exceeds(data, self.max_depth):
            raise ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels.")
        return data
