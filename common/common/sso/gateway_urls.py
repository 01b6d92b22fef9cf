"""The URLconf of a service's admin as the gateway serves it, under ``/admin/<service>/``.

Only the admin and its sign-in: nothing of the service's API is reachable through the
admin's mount point. :class:`common.sso.middleware.GatewayPrefixMiddleware` selects it.
"""

from django.contrib import admin
from django.urls import path

from common.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)

from .urls import staff_sign_in_urlpatterns

urlpatterns = [
    *staff_sign_in_urlpatterns(""),
    path("", admin.site.urls),
]
