"""The back office's one entry: ``/admin/`` (who is signed in, a link to every admin) and each admin under it.

``/admin/<service>/<rest>`` is forwarded to the service as ``/<rest>`` with
``X-Forwarded-Prefix: /admin/<service>``: the service serves its admin there with that script
prefix (common.sso.middleware), so every link, redirect, static file and the OIDC callback
it builds is the gateway's. Only the service's own admin cookies (``<service>_admin_*``, each
admin's session and CSRF cookie, scoped to its mount point) are passed on, so no service
ever sees another's session, nor the single sign-on session of auth_svc. For auth_svc the
gateway adds its proof (``X-Gateway-Token``), so the sign-in page's lockout keys on the
client's address, as the API login's does.

The index is the back office's home (proxy.home): for a signed-in person, the figures their
role may see, read from each service with a short-lived token of theirs that auth_svc hands the
gateway for the browser's single sign-on session. Without that token (auth_svc away, the gateway
without its own proof) the index asks auth_svc only who is signed in (``GET /sso/session``,
with that cookie alone) and shows no figures; if auth_svc cannot say, the page still lists the admins.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt

from common.exceptions import error_response
from common.roles import ADMIN, FINANCE_MANAGER, INVENTORY_MANAGER
from common.sso.conf import ADMIN_SERVICES, PREFIX_HEADER, admin_cookie_prefix

from . import credential as gateway_credential
from . import home, ratelimit
from .proxy import forward

logger = logging.getLogger(__name__)

# Each admin's (title, what staff find there); which admins there are is common's ADMIN_SERVICES.
ADMIN_PAGES = {
    "contact": ("Contacts", "customers and vendors"),
    "inventory": ("Inventory", "items, stock on hand, the stock ledger, stock adjustments"),
    "sales": ("Sales orders", "enter, confirm, pay and cancel sales orders"),
    "purchase": ("Purchase orders", "enter, receive, pay and cancel purchase orders"),
    "auth": ("Users and roles", "platform accounts (admin only)"),
}
# Where each admin's static files (CSS, scripts, icons) live under its mount point: they take no token.
STATIC_PREFIX = "/static/"
ROLE_TITLES = {ADMIN: "admin", FINANCE_MANAGER: "finance manager", INVENTORY_MANAGER: "inventory manager"}


def _own_cookies(request: HttpRequest, service: str) -> str | None:
    """Return the Cookie header with only ``service``'s admin cookies, or None.

    A cookie no admin could have set (a name the cookie grammar refuses, a value that is
    not ASCII once quoted) is left out: a browser holding one must still reach every admin.
    """
    prefix = admin_cookie_prefix(service)
    jar = SimpleCookie()
    for name, value in request.COOKIES.items():
        if not name.startswith(prefix):
            continue
        try:
            jar[name] = value
        except CookieError:
            continue
        if not jar[name].coded_value.isascii():
            del jar[name]
    return "; ".join(f"{morsel.key}={morsel.coded_value}" for morsel in jar.values()) or None


def _elsewhere(request: HttpRequest) -> HttpResponse | None:
    """Send a page asked for under another host than the public one there (the OIDC redirects name it)."""
    public = settings.GATEWAY.get("PUBLIC_URL")
    if not public or request.method not in ("GET", "HEAD"):
        return None
    parts = urlsplit(public)
    if request.get_host() == parts.netloc:
        return None
    return HttpResponseRedirect(f"{parts.scheme}://{parts.netloc}{request.get_full_path()}")


def _static_file(request: HttpRequest, rest: str) -> bool:
    """Whether this is a read of an admin's static file: only a GET or HEAD is (a POST there is no asset)."""
    return request.method in ("GET", "HEAD") and rest.startswith(STATIC_PREFIX)


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))


@csrf_exempt  # each admin checks its own CSRF token
def admin_view(request: HttpRequest, service: str, rest: str = "") -> HttpResponse:
    """Forward ``/admin/<service><rest>`` to that service's admin (see the module)."""
    if service not in ADMIN_SERVICES or _has_dot_segment(rest):
        return error_response(404, "Not found.", error_type="not_found")
    if not rest:
        return HttpResponseRedirect(f"/admin/{service}/")
    request.upstream_service = service  # the metrics' label (proxy.metrics)
    # Staff sign in with a session, not a token: limited by address. An admin's static files are
    # not, as long as they are files (proxy.ratelimit.Limiter): reads that find none are counted.
    static = _static_file(request, rest)
    limiter = ratelimit.limiter()
    refusal = limiter.check_static_read(request) if static else limiter.check(request, None)
    if refusal:
        return refusal
    if moved := _elsewhere(request):
        return moved
    extra = {PREFIX_HEADER: f"/admin/{service}", "Cookie": _own_cookies(request, service)}
    response = forward(
        request,
        service=service,
        base_url=settings.GATEWAY["UPSTREAMS"][service],
        path=escape_uri_path(rest),
        credential=gateway_credential.credential.get() if service == "auth" else None,
        extra_headers=extra,
    )
    if static and not _is_file_answer(response.status_code):
        limiter.count_static_miss(request)
    return response


def _is_file_answer(status: int) -> bool:
    """Whether an answer to a static read served a file: 2xx (a Range's 206 too) or 304 Not Modified."""
    return 200 <= status < 300 or status == 304


def signed_in(request: HttpRequest) -> dict | None:
    """Return ``{"email", "role"}`` of the browser's single sign-on session, or None (nobody, or unknown)."""
    data = home.session_data(request, "GET", "/sso/session")
    try:
        return {"email": str(data["email"]), "role": ROLE_TITLES.get(data["role"], str(data["role"]))}
    except (KeyError, TypeError):
        return None


def index_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_response(405, f'Method "{request.method}" not allowed.', error_type="method_not_allowed")
    if refusal := ratelimit.refused(request, None):
        return refusal
    if moved := _elsewhere(request):
        return moved
    person = home.person_of(request)
    if person is not None:
        staff = {"email": person.email, "role": ROLE_TITLES.get(person.role, person.role)}
        panels = home.home_panels(person, request_id=request.request_id)
    else:
        staff, panels = signed_in(request), []
    context = {
        "staff": staff,
        "panels": panels,
        "no_figures": "Your role has no figures here."
        if person is not None
        else "The figures cannot be read just now (auth_svc could not vouch for this session); "
        "the admins below still open.",
        "admins": [
            {"url": f"/admin/{service}/", "title": ADMIN_PAGES[service][0], "about": ADMIN_PAGES[service][1]}
            for service in ADMIN_SERVICES
        ],
        "sign_in_url": "/admin/auth/login/?next=/admin/",
        "sign_out_url": "/admin/auth/sso/signout/",
    }
    response = render(request, "proxy/back_office.html", context)
    response["Cache-Control"] = "no-store"
    return response


def index_redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/admin/")
