"""The provider's own pages: sign-in (the API login's lockout and throttles), sign-out, who is signed in.

The sign-in page calls ``services.auth_credentials_check``, the very check behind
``POST /login``: failures count in the same per-(email, address) and per-address
counters, keyed on the client's address as the gateway vouches for it. A success logs the
platform user into auth_svc's session, which django-oauth-toolkit's authorize endpoint
then reads: that session is the single sign-on.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_application_model

from common.exceptions import RateLimited, Unauthorized, error_response
from common.forwarding import proxy_vouches
from common.sso.views import safe_next_url

from .. import services
from ..throttling import client_ip
from ..tokens import home_token_for_user
from .codes import code_kill, code_lock

# The sign-in page's session is a password sign-in: Django's own backend.
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password = forms.CharField(max_length=4096, strip=False, widget=forms.PasswordInput)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, candidate, settings.SSO["BACK_OFFICE_URL"])


def _page(request, template: str, context: dict, status: int = 200, **headers):
    response = render(request, template, {**admin.site.each_context(request), **context}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@csrf_protect
@sensitive_post_parameters("password")
def signin(request):
    next_url = _next_url(request)
    form = SignInForm(request.POST if request.method == "POST" else None)
    context = {"title": "Sign in", "form": form, "next": next_url}
    if request.method != "POST" or not form.is_valid():
        return _page(request, "accounts/signin.html", context)
    try:
        user = services.auth_credentials_check(**form.cleaned_data, client_ip=client_ip(request))
    except RateLimited as exc:
        minutes = max(1, math.ceil(exc.wait / 60))
        context["error"] = f"Too many failed sign-ins; try again in {minutes} minute{'s' if minutes > 1 else ''}."
        return _page(request, "accounts/signin.html", context, status=429, **{"Retry-After": str(exc.wait)})
    except Unauthorized:
        context["error"] = "Invalid email or password."
        return _page(request, "accounts/signin.html", context)
    login(request, user, backend=PASSWORD_BACKEND)
    return HttpResponseRedirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
@csrf_protect
def signout(request):
    """End the single sign-on session; the admins' sessions end at their next re-check."""
    if request.method == "POST":
        if request.user.is_authenticated:
            services.sso_tokens_revoke(user=request.user)
        logout(request)
        return HttpResponseRedirect(settings.SSO["BACK_OFFICE_URL"])
    return _page(
        request, "accounts/signout.html", {"title": "Sign out", "back_office_url": settings.SSO["BACK_OFFICE_URL"]}
    )


@never_cache
@require_GET
def session(request):
    """Who holds this single sign-on session: ``{"email", "role"}``, else 401 (the gateway's index asks)."""
    user = request.user
    if not user.is_authenticated:
        return error_response(401, "Nobody is signed in.", error_type="unauthorized")
    return JsonResponse({"status": 200, "message": "OK", "data": {"email": user.email, "role": user.role}})


# How long the back office's home may read the services with the token it is handed: one page's worth.
HOME_TOKEN_LIFETIME = dt.timedelta(seconds=60)


@csrf_exempt  # no browser can send the gateway's own token; the proof below is the check
@never_cache
def session_token(request):
    """Hand the gateway a short-lived access token of whoever holds this single sign-on session.

    The back office's home (gateway, proxy.home) reads each service's figures with the
    signed-in person's own rights, and a browser holds no API token, only this session. Only
    the gateway may ask, proving itself with its service token (``X-Gateway-Token``), and only
    directly: the path is in auth_svc's root URLconf, not in the one served under the gateway's
    ``/admin/auth/``, so no browser reaches it even through the gateway. 403 without the proof,
    401 without a session (an inactive account's session is none).
    """
    if request.method != "POST":
        return error_response(405, f'Method "{request.method}" not allowed.', error_type="method_not_allowed")
    if not proxy_vouches(request, proxy_name=settings.ACCOUNTS["TRUSTED_PROXY"]):
        return error_response(403, "Only the gateway may ask.", error_type="forbidden")
    user = request.user
    if not user.is_authenticated:
        return error_response(401, "Nobody is signed in.", error_type="unauthorized")
    data = {
        "email": user.email,
        "role": user.role,
        "access_token": home_token_for_user(user=user, lifetime=HOME_TOKEN_LIFETIME),
        "expires_in": int(HOME_TOKEN_LIFETIME.total_seconds()),
    }
    return JsonResponse({"status": 200, "message": "OK", "data": data})


class TokenView(oauth_views.TokenView):
    """django-oauth-toolkit's token endpoint, but a code whose redemption failed is dead (accounts.sso.codes)."""

    def post(self, request, *args, **kwargs):
        code = request.POST.get("code")
        if request.POST.get("grant_type") != "authorization_code" or not code:
            return super().post(request, *args, **kwargs)
        with transaction.atomic():
            code_lock(code=code)  # a second redemption at once waits, then is a replay
            response = super().post(request, *args, **kwargs)
            if response.status_code != 200:
                code_kill(code=code)
        return response


class DiscoveryView(oauth_views.ConnectDiscoveryInfoView):
    """The discovery document, advertising only what is accepted.

    django-oauth-toolkit lists HS256 beside RS256 whatever the applications use; every
    application here signs RS256 (accounts.sso.clients), and an HS256 ID token is refused by
    the clients (common.sso). It names no grant types, which OIDC Discovery reads as the
    code *and the implicit* flows: named here, the two the token endpoint takes. The
    response types are the settings' (``code`` alone).
    """

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        document["id_token_signing_alg_values_supported"] = [get_application_model().RS256_ALGORITHM]
        document["grant_types_supported"] = ["authorization_code", "refresh_token"]
        answer = JsonResponse(document)
        for header in ("Access-Control-Allow-Origin", "Cache-Control"):
            if header in response:
                answer[header] = response[header]
        return answer
