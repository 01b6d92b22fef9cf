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


def _int_param(request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({name: ["Must be an integer."]}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise serializers.ValidationError({name: [f"Must be {bound}."]})
    return value


def page_window(request) -> tuple[int, int]:
    """Return ``(limit, offset)`` from either style of query parameters."""
    page = _int_param(request, "page", minimum=1)
    size = _int_param(request, "size", minimum=1, maximum=MAX_LIMIT)
    if page is not None or size is not None:
        size = size or DEFAULT_LIMIT
        return size, ((page or 1) - 1) * size
    limit = _int_param(request, "limit", minimum=1, maximum=MAX_LIMIT) or DEFAULT_LIMIT
    offset = _int_param(request, "offset", minimum=0) or 0
    return limit, offset


class EnvelopePagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.limit, self.offset = page_window(request)
        self.total = (
            queryset.count() if hasattr(queryset, "count") and not isinstance(queryset, list) else len(queryset)
        )
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data):
        response = Response(data)
        response.envelope_meta = {"total": self.total, "limit": self.limit, "offset": self.offset}
        return response

    def get_paginated_response_schema(self, schema):
        # The envelope itself is added by common.openapi's post-processing hook.
        return schema

    def get_schema_operation_parameters(self, view):
        def param(name: str, description: str) -> dict:
            return {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "integer"},
            }

        return [
            param("limit", f"Number of results (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."),
            param("offset", "Index of the first result."),
            param("page", "1-based page number (instead of offset)."),
            param("size", f"Page size with `page` (max {MAX_LIMIT})."),
        ]
