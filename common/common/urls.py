"""URL patterns every service mounts: health, metrics, schema and offline docs.

A service's ``config/urls.py`` also imports the error handlers from here so Django's
own 400/403/404/500 answers use the error envelope too.
"""

from django.urls import path

from . import health
from .docs import RedocView, SchemaView, SwaggerView, redoc_bundle_view
from .metrics import metrics_view

urlpatterns = [
    path("health/live", health.LiveView.as_view(), name="health-live"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="schema", template_name="common/redoc.html"), name="redoc"),
    path("redoc/redoc.standalone.js", redoc_bundle_view, name="redoc-bundle"),
]

handler400 = "common.views.bad_request"
handler403 = "common.views.permission_denied"
handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
