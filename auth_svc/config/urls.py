"""URLs of auth_svc: its API at the root, admin, the OIDC provider, and the shared health/schema/docs routes."""

from accounts.admin import own_password_change
from accounts.sso import views as sso_views
from django.contrib import admin
from django.urls import include, path

from common.sso.urls import staff_sign_in_urlpatterns
from common.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)

urlpatterns = [
    *staff_sign_in_urlpatterns("admin/"),
    # Before the admin's own: a new password goes through accounts.services, whoever sets it.
    path("admin/password_change/", own_password_change),
    path("admin/", admin.site.urls),
    # The OpenID Connect provider of the back office (the gateway serves it at /admin/auth/sso/).
    # The session's token for the back office's home: here only, never under the gateway's /admin/auth/.
    path("sso/session/token", sso_views.session_token, name="sso-session-token"),
    path("sso/", include("accounts.sso.urls")),
    path("", include("common.urls")),
    path("", include("accounts.api.urls")),
]
