"""Request middleware: ``X-Request-ID`` (take the caller's id or make one), whole bodies, static files.

:class:`RequestBodyMiddleware` makes sure a body is read whole or refused (CONTRACT §2).
:class:`StaticFilesMiddleware` is WhiteNoise, refusing a method in the envelope.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from whitenoise.middleware import WhiteNoiseMiddleware

from .exceptions import BadRequest, PayloadTooLarge, method_not_allowed_response, service_error_response
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


def _server_framing_errors() -> tuple[type[BaseException], ...]:
    """What reading the WSGI input raises when the client broke the body's framing.

    A connection that closes mid-body is an ``OSError`` (gunicorn's ``NoMoreData`` is one);
    gunicorn raises its ``ParseException`` subclasses for a bad chunk size or a missing
    chunk terminator. Both are the client's doing: a 400, never a 500 with a traceback.
    """
    try:
        from gunicorn.http.errors import ParseException
    except ImportError:  # another WSGI server: its own errors stay unexpected
        return (OSError,)
    return (OSError, ParseException)


BROKEN_FRAMING = _server_framing_errors()
BROKEN_BODY_MESSAGE = "The request body was cut short or badly framed."


class RequestBodyMiddleware:
    """Read every body whole before a view runs, or refuse it (CONTRACT §2).

    - over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413, refused on a declared length before a
      byte is read, else once the limit is passed;
    - chunked (no length): Django sizes bodies by ``Content-Length`` alone and would read
      it as empty, so a login would be judged on no data at all; it is de-chunked here;
    - broken (a bad chunk, or the connection closing before the declared length or the
      last chunk): 400, instead of a view judging half a body (or a 500).

    The body is then handed on in memory with its true length, so DRF's parsers and
    ``request.body`` read exactly what was checked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        meta = request.META
        chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH")
        declared = None if chunked else _declared_length(meta)
        if not declared and not chunked:
            return self.get_response(request)
        if limit is not None and declared is not None and declared > limit:
            return service_error_response(PayloadTooLarge())
        wanted = declared if declared is not None else (None if limit is None else limit + 1)
        try:
            body = meta["wsgi.input"].read() if wanted is None else meta["wsgi.input"].read(wanted)
        except BROKEN_FRAMING:
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        if limit is not None and len(body) > limit:
            return service_error_response(PayloadTooLarge())
        if declared is not None and len(body) < declared:
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        meta["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
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
