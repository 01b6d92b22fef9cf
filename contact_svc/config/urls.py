"""URLs of contact_svc: its API at the root, admin, and the shared health/schema/docs routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("common.urls")),
    path("", include("contacts.api.urls")),
]

handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
