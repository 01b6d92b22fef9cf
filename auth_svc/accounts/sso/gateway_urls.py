"""auth_svc's URLconf under the gateway's ``/admin/auth/``: the provider at ``sso/``, then the admin.

The provider and the admin share one session cookie (``auth_admin_session``): signing in
at the provider is signing in to auth_svc, whose admin user is the platform user itself.
"""

from django.urls import include, path

from common.sso.gateway_urls import urlpatterns as admin_urlpatterns
from common.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)

urlpatterns = [
    path("sso/", include("accounts.sso.urls")),
    *admin_urlpatterns,
]
