"""URLs of the gateway: health, the merged schema and docs, the proxy under /api/, the back office under /admin/.

No ``/metrics`` here: the gateway is the published edge, and metrics are for the
operator's scraper (contract §1). Its own are answered on a second listener,
``ERP_METRICS_BIND`` (proxy.metrics, scripts/gunicorn.conf.py).
"""

from django.contrib.staticfiles.views import serve as serve_static
from django.urls import path, re_path
from proxy import back_office, front, views
from proxy.health import HealthView

from common import health as common_health
from common.docs import redoc_bundle_view
from common.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)
from common.views import not_found, read_only_view


@read_only_view
def static_asset(request, path):
    # The offline docs' sidecar assets, served here because the gateway has no front web server.
    return serve_static(request, path, insecure=True)


urlpatterns = [
    path("", front.front_view, name="front"),
    path("health", HealthView.as_view(), name="health"),
    path("health/live", common_health.LiveView.as_view(), name="health-live"),
    path("health/ready", common_health.ReadyView.as_view(), name="health-ready"),
    path("api/schema/", views.schema_view, name="schema"),
    path("api/docs/", views.swagger_view, name="docs"),
    path("api/redoc/", views.redoc_view, name="redoc"),
    path("api/redoc/redoc.standalone.js", redoc_bundle_view, name="redoc-bundle"),
    re_path(r"^static/(?P<path>drf_spectacular_sidecar/.+)$", static_asset, name="static-asset"),
    re_path(r"^api/", views.proxy_view, name="proxy"),
    # The back office (docs/back-office.md): the index, and each service's admin under it.
    path("admin", back_office.index_redirect, name="back-office-redirect"),
    path("admin/", back_office.index_view, name="back-office"),
    re_path(r"^admin/(?P<service>[a-z]+)(?P<rest>/.*)?$", back_office.admin_view, name="back-office-admin"),
    # Everything else: the envelope 404, even with DEBUG on (clients of the gateway expect JSON).
    re_path(r"", not_found, name="not-found"),
]
