"""URLs of inventory_svc: its API at the root, admin, and the shared health/schema/docs routes."""

from django.contrib import admin
from django.urls import include, path

from common.sso.urls import staff_sign_in_urlpatterns
from common.summaries import DeadLettersView
from common.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)

urlpatterns = [
    *staff_sign_in_urlpatterns("admin/"),
    path("admin/", admin.site.urls),
    path("", include("common.urls")),
    # A consuming service's dead letters, for the back office's home (common.summaries).
    path("events/dead-letters", DeadLettersView.as_view(), name="events-dead-letters"),
    path("", include("inventory.api.urls")),
]
