"""JSON renderer that wraps successful responses in the contract's success envelope.

``{"status": 200, "message": "OK", "data": ...}`` plus ``meta`` for lists. Error
responses are already enveloped by :mod:`common.exceptions` and pass through, as
do responses a view marks ``enveloped = True`` (the gateway's proxied bodies).
:func:`json_response` renders a body the same way outside DRF (Django's error handlers,
middleware, the gateway's own answers), so a client sees one rendering whoever answers.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:  # a code outside the standard list, e.g. 299
        return "OK"


class EnvelopeJSONRenderer(JSONRenderer):
    """Wrap 1xx-3xx bodies in the success envelope; 204 has no body at all."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code < 400 and not getattr(response, "enveloped", False):
            if response.status_code == 204:
                return b""
            body = {
                "status": response.status_code,
                "message": getattr(response, "envelope_message", None) or _phrase(response.status_code),
                "data": data,
            }
            meta = getattr(response, "envelope_meta", None)
            if meta is not None:
                body["meta"] = meta
            data = body
        return super().render(data, accepted_media_type, renderer_context)


_renderer = EnvelopeJSONRenderer()


def json_response(body, *, status: int = 200, headers=None) -> HttpResponse:
    """Return ``body`` (already an envelope) rendered exactly as DRF renders the services' answers.

    DRF's renderer, not ``JsonResponse``: compact separators, UTF-8 rather than ``\\u`` escapes,
    no NaN, and the same ``Content-Type``, so a gateway error and a service error for the same
    situation are the same bytes.
    """
    return HttpResponse(_renderer.render(body), status=status, headers=headers, content_type=_renderer.media_type)
