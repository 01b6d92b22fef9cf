"""Routes of the test project: the shared ones plus views that exercise common's pieces."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("common.urls")),
    path("widgets", views.WidgetView.as_view()),
]

handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
