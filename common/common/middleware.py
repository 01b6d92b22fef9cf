"""Request middleware: ``X-Request-ID`` (take the caller's id or make one), whole bodies, static files.

:class:`RequestBodyMiddleware` makes sure a body is read whole or refused (contract §2).
:class:`StaticFilesMiddleware` is WhiteNoise, refusing a method in the envelope.
"""

from __future__ import annotations

from django.conf import settings
from django.http import UnreadablePostError
from whitenoise.middleware import WhiteNoiseMiddleware

from .exceptions import BadRequest, PayloadTooLarge, method_not_allowed_response, service_error_response
from .request_id import HEADER, accept_or_new, reset_request_id, set_request_id
from .wsgi import BROKEN_FRAMING, CHUNKED_BODY_BROKEN


class RequestIDMiddleware:
    """Set ``request.request_id`` and the context variable for the request, and echo the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[HEADER] = request_id
        return response


BROKEN_BODY_MESSAGE = "The request body was cut short or badly framed."


class RequestBodyMiddleware:
    """Read every body whole before a view runs, or refuse it (contract §2).

    - over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413, refused on a declared length before a
      byte is read;
    - chunked (no length): read whole at the WSGI boundary (:func:`common.wsgi.dechunked`),
      with the length it turned out to have, so the rules above and below hold for it too;
    - broken (a bad chunk, or the connection closing before the declared length or the
      last chunk): 400, instead of a view judging half a body (or a 500).

    The body is read through Django's ``request.body``, which keeps it in memory for DRF's
    parsers: they read exactly what was checked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get(CHUNKED_BODY_BROKEN):
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        declared = _declared_length(request.META)
        if not declared:
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and declared > limit:
            return service_error_response(PayloadTooLarge())
        try:
            body = request.body
        except (UnreadablePostError, *BROKEN_FRAMING):
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        if len(body) < declared:
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        return self.get_response(request)


def _declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Serve the admin's and the docs' assets (WhiteNoise); refuse other methods than GET/HEAD in the envelope.

    WhiteNoise answers a ``POST`` to a static file with a bare 405 (no body, no Content-Type)
    before any view runs; a client of the API expects the envelope from every path.
    """

    @staticmethod
    def serve(static_file, request):
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed_response(request.method)
        return WhiteNoiseMiddleware.serve(static_file, request)
