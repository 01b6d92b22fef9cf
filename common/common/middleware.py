"""Request middleware: ``X-Request-ID`` (take the caller's id or make one), whole bodies, static files.

:class:`RequestBodyMiddleware` makes sure a body is read whole or refused (contract §2).
:class:`StaticFilesMiddleware` is WhiteNoise, refusing a method in the envelope.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpResponse, UnreadablePostError
from whitenoise.middleware import WhiteNoiseMiddleware

from .exceptions import BadRequest, PayloadTooLarge, method_not_allowed_response, service_error_response
from .request_id import HEADER, accept_or_new, reset_request_id, set_request_id
from .wsgi import BROKEN_FRAMING, CHUNKED_BODY_BROKEN, UNREAD_INPUT, body_limit


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

    - over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (more on an import path, :func:`common.wsgi.body_limit`):
      413, decided on the declared length, answered once the body was read and dropped
      (:func:`too_large`);
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
        limit = body_limit(request.path_info)
        if limit is not None and declared > limit:
            return too_large(request, declared)
        try:
            body = request.body if limit == settings.DATA_UPLOAD_MAX_MEMORY_SIZE else _read_whole(request)
        except (UnreadablePostError, *BROKEN_FRAMING):
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        if len(body) < declared:
            return service_error_response(BadRequest(BROKEN_BODY_MESSAGE))
        return self.get_response(request)


def _read_whole(request) -> bytes:
    """Read a body allowed past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (an import) as ``request.body`` would.

    Django's ``body`` refuses any body over that setting, which stays the limit everywhere
    else; so the larger body is read through the public file interface and kept the way
    ``HttpRequest.body`` keeps it (``_body``, and ``_stream`` for parsers that read again).
    """
    body = request.read()
    request._body = body
    request._stream = io.BytesIO(body)
    return body


# Bytes at most read and dropped before a 413 (drain_body): a client sending more is cut off.
DRAIN_MAX_BYTES = 64 * 1024 * 1024


def too_large(request, declared: int) -> HttpResponse:
    """Answer 413 once the client has sent its body (up to ``DRAIN_MAX_BYTES``), then close the connection.

    Closing a connection with unread bytes in the receive buffer makes the kernel send a
    reset, which can reach the client before it read the answer: Python's urllib (which
    sends the whole body before it reads anything, with ``Connection: close``) then saw
    "connection reset" instead of the 413, while curl (``Expect: 100-continue``) saw the
    413. Reading what was sent first lets every client read the answer; nginx does the
    same (``lingering_close``), and refuses to linger past a bound, as this does.
    """
    drain_body(request, declared)
    response = service_error_response(PayloadTooLarge())
    response["Connection"] = "close"
    return response


def drain_body(request, declared: int) -> None:
    """Read and drop the body still on its way (a chunked one from the server's own input), up to the bound."""
    if declared > DRAIN_MAX_BYTES:
        return
    stream = request.META.get(UNREAD_INPUT) or request
    left = DRAIN_MAX_BYTES
    try:
        while left > 0 and (chunk := stream.read(min(left, 64 * 1024))):
            left -= len(chunk)
    except (UnreadablePostError, *BROKEN_FRAMING):
        pass  # the client gave up: nothing left to wait for


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
