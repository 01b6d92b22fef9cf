"""Limit/offset or page/size pagination with the envelope's ``meta``.

``?limit=&offset=`` (default 10, max 100) or ``?page=&size=`` (1-based); bad values
are a 400 naming the parameter rather than a silent default.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# Bound offsets and pages too: a 20-digit offset would overflow the database's
# bigint and turn bad input into a 500.
MAX_OFFSET = 2**31 - 1


def _int_param(request, name: str, *, minimum: int, maximum: int) -> int | None:
    """Return the query parameter as an int in range, None if absent; else a 400 naming it."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    # Only plain digits: int() would also take " 5", "+5", "1_000" and other scripts' digits.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_OFFSET)):
        raise serializers.ValidationError({name: [f"Must be an integer between {minimum} and {maximum}."]})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise serializers.ValidationError({name: [f"Must be an integer between {minimum} and {maximum}."]})
    return value


# Each parameter's (minimum, maximum, description): what is enforced is what is documented.
PARAMETERS = {
    "limit": (1, MAX_LIMIT, f"Number of results (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."),
    "offset": (0, MAX_OFFSET, "Index of the first result."),
    "page": (1, MAX_OFFSET // MAX_LIMIT, "1-based page number (instead of offset)."),
    "size": (1, MAX_LIMIT, f"Page size with `page` (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."),
}


def _param(request, name: str) -> int | None:
    minimum, maximum, _ = PARAMETERS[name]
    return _int_param(request, name, minimum=minimum, maximum=maximum)


def page_window(request) -> tuple[int, int]:
    """Return ``(limit, offset)`` from either style of query parameters."""
    page, size = _param(request, "page"), _param(request, "size")
    if page is not None or size is not None:
        size = size or DEFAULT_LIMIT
        return size, ((page or 1) - 1) * size
    return _param(request, "limit") or DEFAULT_LIMIT, _param(request, "offset") or 0


class EnvelopePagination(BasePagination):
    """Slice the queryset and put ``{total, limit, offset}`` in the envelope's ``meta``."""

    def paginate_queryset(self, queryset, request, view=None):
        self.limit, self.offset = page_window(request)
        # QuerySet.count() is a COUNT(*); list.count() is something else entirely.
        self.total = len(queryset) if isinstance(queryset, (list, tuple)) else queryset.count()
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data):
        response = Response(data)
        response.envelope_meta = {"total": self.total, "limit": self.limit, "offset": self.offset}
        return response

    def get_paginated_response_schema(self, schema):
        # The envelope itself is added by common.openapi's post-processing hook.
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
            }
            for name, (minimum, maximum, description) in PARAMETERS.items()
        ]
