"""View helpers: JSON 404/500 for non-DRF paths, and strict UUID lookups."""

from __future__ import annotations

import uuid

from django.http import JsonResponse

from .exceptions import BadRequest, error_body


def not_found(request, exception=None):
    return JsonResponse(error_body(404, "not_found", "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body(500, "internal", "Internal server error."), status=500)


class UUIDLookupMixin:
    """Answer 400 ``bad_request`` for a path id that is not a UUID (Django would say 404)."""

    def get_object(self):
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup)
        try:
            uuid.UUID(str(value))
        except ValueError:
            raise BadRequest(
                f"'{value}' is not a valid UUID.", details=[{"field": "id", "message": "Must be a UUID."}]
            ) from None
        return super().get_object()
