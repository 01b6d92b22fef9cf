"""Serve the admin under the gateway's mount point, and re-check open sessions with the provider.

:class:`GatewayPrefixMiddleware`: the gateway serves a service's admin at
``/admin/<service>/`` and forwards ``/admin/<service>/<rest>`` as ``/<rest>`` with
``X-Forwarded-Prefix: /admin/<service>``. For such a request this makes the prefix the
script prefix (so every URL Django builds, links, redirects, static files and the OIDC
callback, carries it), takes the host from ``X-Forwarded-Host`` (the address the browser
used, which the OIDC redirect must name) and routes with the admin-only URLconf
(``SSO["GATEWAY_URLCONF"]``: the admin at the root, nothing of the API). Any other prefix is
ignored. The service's own ``/admin/`` stays as it is.

:class:`StaffRecheckMiddleware`: every ``SSO["RECHECK_SECONDS"]`` a session opened by single
sign-on is re-checked with the provider's userinfo endpoint, with the access token of the
sign-in, on any method (a POST is as much admin access as a GET). The local user is brought
in step (a demotion takes effect); a refusal (deactivated, signed out, token expired), a
lost role or an unreachable provider ends the session: it fails closed.
"""

from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.module_loading import import_string

from .backends import PROVIDER_FAILURES, StaffOIDCBackend, staff_users
from .conf import PREFIX_HEADER

logger = logging.getLogger(__name__)

# Session keys: the access token of the sign-in (mozilla-django-oidc's name) and when to ask again.
ACCESS_TOKEN_KEY = "oidc_access_token"
CHECKED_UNTIL_KEY = "sso_checked_until"


class GatewayPrefixMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        prefix = request.headers.get(PREFIX_HEADER)
        if not prefix or prefix != settings.SSO["GATEWAY_PREFIX"]:
            return self.get_response(request)
        request.META["SCRIPT_NAME"] = prefix
        request.path = prefix + request.path_info
        request.urlconf = settings.SSO["GATEWAY_URLCONF"]
        forwarded_host = request.headers.get("X-Forwarded-Host")
        if forwarded_host:
            # Validated against ALLOWED_HOSTS by get_host(), like any Host header.
            request.META["HTTP_HOST"] = forwarded_host
        # The prefix is thread-local state; give the thread back as it came (the next
        # request's handler sets its own, but not every handler does: the test client).
        previous = get_script_prefix()
        set_script_prefix(prefix)
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(previous)


def session_is_sso(request) -> bool:
    backend = request.session.get(BACKEND_SESSION_KEY)
    return ACCESS_TOKEN_KEY in request.session and backend is not None and _is_sso_backend(backend)


def _is_sso_backend(path: str) -> bool:
    try:
        return issubclass(import_string(path), StaffOIDCBackend)
    except ImportError:
        return False


def mark_checked(request) -> None:
    request.session[CHECKED_UNTIL_KEY] = time.time() + settings.SSO["RECHECK_SECONDS"]


class StaffRecheckMiddleware:
    """After AuthenticationMiddleware: end a session the provider no longer backs (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only a session can be a staff session: an API request (a bearer token, no session
        # cookie) is let through without making its anonymous user and empty session.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and session_is_sso(request):
            if request.session.get(CHECKED_UNTIL_KEY, 0) <= time.time() and not self._still_backed(request):
                auth.logout(request)
                # The handler sets the request's URLconf only after the middleware: name it, or
                # behind the gateway this would be the service's own /admin/login/ (a 404 there).
                login_url = reverse("admin:login", urlconf=getattr(request, "urlconf", None))
                return redirect_to_login(request.get_full_path(), login_url)
        return self.get_response(request)

    def _still_backed(self, request) -> bool:
        try:
            current = StaffOIDCBackend().userinfo_user(request.session[ACCESS_TOKEN_KEY])
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code in (401, 403):
                staff_users().staff_user_lapse(user=request.user)
            logger.info("staff session ended: the identity provider refused the re-check")
            return False
        except PROVIDER_FAILURES:
            logger.warning("staff session ended: the identity provider could not be asked")
            return False
        if current is None or current.pk != request.user.pk:
            logger.info("staff session ended: the account lost its role")
            return False
        mark_checked(request)
        request.user = current  # this request already runs with the role as it is now
        return True
