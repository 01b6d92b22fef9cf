"""The API docs pages load nothing from outside the platform.

Swagger UI and ReDoc come from drf-spectacular-sidecar, but ReDoc's bundle shows
Redocly's logo in its sidebar from their CDN: the one thing the docs pages would fetch
elsewhere. :func:`redoc_bundle_view` serves the sidecar's bundle with that address
blanked (the logo's own ``onError`` then hides it); ``common/redoc.html`` loads the
bundle from beside the page, so ``/redoc/`` and the gateway's ``/api/redoc/`` both get it.

The schema and docs views answer their errors (a ``POST``, say) in the JSON error envelope like
every other endpoint, not as YAML or an HTML page (:class:`EnvelopeErrorsMixin`).
"""

from __future__ import annotations

import functools

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .renderers import EnvelopeJSONRenderer
from .views import read_only_view

SIDECAR_REDOC = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
EXTERNAL_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'


@functools.cache
def redoc_bundle() -> bytes:
    """The sidecar's ReDoc bundle without the CDN logo (read once per process)."""
    with open(finders.find(SIDECAR_REDOC), "rb") as bundle:
        return bundle.read().replace(EXTERNAL_LOGO, b'""')


@read_only_view
def redoc_bundle_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class EnvelopeErrorsMixin:
    """Render this view's error answers with the envelope renderer, whatever its pages are rendered with.

    DRF renders an error with the renderer negotiated for the page (YAML for ``/schema/``, an
    HTML template for the docs); a client of the API expects the JSON envelope from any path.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = EnvelopeJSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(EnvelopeErrorsMixin, SpectacularAPIView):
    pass


class SwaggerView(EnvelopeErrorsMixin, SpectacularSwaggerView):
    pass


class RedocView(EnvelopeErrorsMixin, SpectacularRedocView):
    pass
