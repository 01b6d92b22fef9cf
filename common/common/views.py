"""View helpers: JSON error pages for what Django answers itself, and strict UUID lookups.

A service's ``config/urls.py`` points Django's ``handler400/403/404/500`` here, so an
unknown path, a bad ``Host`` or a crash outside DRF still answers in the error envelope.
"""

from __future__ import annotations

import uuid

from django.http import JsonResponse

from .exceptions import BadRequest, error_body


def bad_request(request, exception=None):
    """``handler400``: a request Django refused itself (a disallowed ``Host``, a body too large)."""
    return JsonResponse(error_body(400, "bad_request", "Bad request."), status=400)


def permission_denied(request, exception=None):
    """``handler403``: Django's own 403 (CSRF failure, PermissionDenied outside DRF)."""
    return JsonResponse(error_body(403, "forbidden", "Forbidden."), status=403)


def not_found(request, exception=None):
    """``handler404``: an unknown path."""
    return JsonResponse(error_body(404, "not_found", "Not found."), status=404)


def server_error(request):
    """``handler500``: a crash outside DRF; the details are in the log, never in the answer."""
    return JsonResponse(error_body(500, "internal", "Internal server error."), status=500)


class UUIDLookupMixin:
    """Answer 400 ``bad_request`` for a path id that is not a UUID (Django would say 404).

    Put it before the generic view in the bases so its ``get_object`` runs first.
    """

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
