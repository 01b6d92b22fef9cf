"""The admin's sign-in and sign-out through the identity provider, and the refusal page.

The admin's own login form is replaced (:func:`staff_login`): there are no passwords in a
service, so ``/admin/login/`` starts the OpenID Connect flow instead; signing out of one
admin ends the single sign-on session too (:func:`staff_logout`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, auth
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from common.timezones import SESSION_KEY as ZONE_SESSION_KEY

from .backends import REFUSAL_KEY
from .middleware import mark_checked

# Where mozilla-django-oidc keeps the sign-ins this session started (state -> nonce, verifier).
OIDC_STATES_KEY = "oidc_states"


class StaffCallbackView(OIDCAuthenticationCallbackView):
    """mozilla-django-oidc's callback, plus what the session keeps of the sign-in's claims."""

    def get(self, request):
        # mozilla-django-oidc signs the admin's user out on any ``?error=``: a link from any
        # site would do it (logout by CSRF). Only an answer to a sign-in this very session
        # started (its ``state``) may; any other error is a refused sign-in, nothing more.
        if request.GET.get("error") and request.GET.get("state") not in request.session.get(OIDC_STATES_KEY, {}):
            return self.login_failure()
        return super().get(request)

    @property
    def failure_url(self):
        # The library redirects to the setting as given; here it is a URL name.
        return resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)

    def login_success(self):
        response = super().login_success()  # logs the user in first: the session may be new
        claims = getattr(self.user, "staff_claims", None)
        if claims is not None and claims.zoneinfo:
            self.request.session[ZONE_SESSION_KEY] = claims.zoneinfo
        else:
            self.request.session.pop(ZONE_SESSION_KEY, None)
        mark_checked(self.request)
        return response


def safe_next_url(request, candidate: str | None, default: str) -> str:
    """Return ``candidate`` if it stays on this host (no open redirect), else ``default``."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@never_cache
def staff_login(request):
    """Start single sign-on (the admin's login page has no password form)."""
    next_url = safe_next_url(request, request.GET.get("next"), reverse("admin:index"))
    return HttpResponseRedirect(f"{reverse('oidc_authentication_init')}?{urlencode({'next': next_url})}")


@never_cache
@require_POST
@csrf_protect
def staff_logout(request):
    """End this admin's session, then the single sign-on session at the provider (POST, as Django's)."""
    auth.logout(request)
    return HttpResponseRedirect(settings.SSO["LOGOUT_URL"] or reverse("admin:index"))


@never_cache
def staff_refused(request):
    """Where a failed or refused sign-in lands: say so, without sending the browser round again."""
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in refused",
        # Said once: a later refusal of another cause must not repeat it.
        "provider_unreachable": request.session.pop(REFUSAL_KEY, None) == "unreachable",
        "retry_url": reverse("oidc_authentication_init"),
        "back_office_url": settings.SSO["BACK_OFFICE_URL"],
    }
    return render(request, "sso/refused.html", context, status=403)
