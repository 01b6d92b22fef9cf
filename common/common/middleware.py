"""Request middleware: ``X-Request-ID`` (take the caller's id or make one), and whole bodies.

:class:`RequestBodyMiddleware` makes sure a body is read whole or refused (CONTRACT §2).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse

from .exceptions import PayloadTooLarge, error_response
from .request_id import HEADER, accept_or_new, reset_request_id, set_request_id


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


def _too_large() -> JsonResponse:
    exc = PayloadTooLarge()
    return error_response(exc.status_code, str(exc.detail), error_type=exc.default_code)


class RequestBodyMiddleware:
    """Refuse a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413; read a chunked body whole.

    Django sizes the body by ``Content-Length`` alone: a chunked request (no length) reads
    as empty, so a login would be judged on no data at all. Here such a body is read from
    the server's de-chunked input, up to one byte past the limit, and handed on with its
    length as if the client had sent one. A declared length over the limit is refused
    before a byte is read; DRF's parsers, which read the stream themselves, never see it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH"):
            source = meta["wsgi.input"]
            body = source.read() if limit is None else source.read(limit + 1)
            if limit is not None and len(body) > limit:
                return _too_large()
            meta["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        elif limit is not None and _declared_length(meta) > limit:
            return _too_large()
        return self.get_response(request)


def _declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
