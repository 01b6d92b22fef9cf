"""Routes of the test project: the shared ones plus views that exercise common's pieces."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("common.urls")),
    path("widgets", views.WidgetView.as_view()),
    path("gadgets", views.GadgetListView.as_view()),
    path("gadgets/<str:pk>", views.GadgetDetailView.as_view()),
    path("orders", views.OrderView.as_view()),
    path("throttled", views.ThrottledView.as_view()),
    path("errors/<str:kind>", views.ErrorView.as_view()),
    path("envelope", views.EnvelopeView.as_view()),
    path("counter", views.CounterView.as_view()),
    path("gadget-work", views.GadgetWorkView.as_view()),
    path("exempt-counter", views.ExemptCounterView.as_view()),
    path("public-counter", views.PublicCounterView.as_view()),
]

handler400 = "common.views.bad_request"
handler403 = "common.views.permission_denied"
handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
