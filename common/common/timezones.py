"""Dates in the back office in each staff member's time zone; everything else in UTC.

:class:`StaffTimezoneMiddleware` activates, for a request to the Django admin, the zone
the sign-in put in the session (``staff_zoneinfo``, an IANA name such as
``Europe/Berlin``), else ``settings.TIME_ZONE`` (``DJANGO_TIME_ZONE``). Every other
request (the API, health, metrics) runs in UTC, as the contract promises, whatever
``TIME_ZONE`` says: DRF renders datetimes in the current time zone, and a browser that
is signed in to the admin also sends its session cookie to the browsable API.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

from django.utils import timezone

from .settings.env import zone_named

SESSION_KEY = "staff_zoneinfo"


def staff_zone(request) -> tzinfo:
    """Return the zone the session names, if it is a real one, else the default (``TIME_ZONE``)."""
    session = getattr(request, "session", None)
    chosen = zone_named(session.get(SESSION_KEY)) if session is not None else None
    return chosen or timezone.get_default_timezone()


class StaffTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(UTC)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Known once the URL is resolved: the admin's pages (its login included), under
        # whatever prefix the service mounts them.
        match = request.resolver_match
        if match is not None and "admin" in match.app_names:
            timezone.activate(staff_zone(request))
        return None
