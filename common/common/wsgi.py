"""The services' WSGI entry point: Django's handler, reading chunked bodies, ignoring a non-text charset.

Chunked bodies: Django sizes a body by ``Content-Length`` alone and reads one sent with
``Transfer-Encoding: chunked`` (no length) as empty, so a login would be judged on no data at
all. Its documentation leaves them to the server or a WSGI middleware: gunicorn de-chunks the
input but cannot know the length before the end, so :func:`dechunked` reads such a body here,
before Django builds the request, and hands it on in memory with its true length. What is
refused, and how, stays with :class:`common.middleware.RequestBodyMiddleware` (contract §2):
a body over its limit (:func:`body_limit`) is read one byte past it, so its length says so
(413), and a broken framing leaves an empty body marked :data:`CHUNKED_BODY_BROKEN` (400).

Charsets: Django believes any ``charset`` of ``Content-Type`` that :func:`codecs.lookup` knows,
bytes-to-bytes codecs included (``zlib``, ``base64``, ``bz2``...), and decodes the query
string with it while it builds the request, before any middleware runs: a
``GET /customers?search=a`` sent with ``Content-Type: application/json; charset=zlib``
was a ``LookupError``, an HTML 500 from gunicorn with a traceback in its log, at the
gateway and at every service, without a token. Here such a charset is ignored, as Django
ignores one it does not know, and the request is read as UTF-8 (DRF's parsers refuse a
non-text charset for bodies in the same way: ``rest_framework.parsers.get_encoding``).
The request class is Django's own hook (``WSGIHandler.request_class``), but the method it
overrides, ``_set_content_type_params``, is private: Django offers no public one that runs
before the query string is decoded. tests/test_wsgi.py pins both sides: Django's own handler
still fails on such a charset (the day it does not, this override can go), and this one does not.
"""

from __future__ import annotations

import io
import re

import django
from django.conf import settings
from django.core.handlers import wsgi
from django.utils.http import parse_header_parameters

# The environ key (a WSGI extension, hence the prefix) that says the chunked body was broken.
CHUNKED_BODY_BROKEN = "erp.chunked_body_broken"
# The server's own input, kept when a chunked body was read only up to its limit: the rest is
# read and dropped before the 413 goes out (common.middleware.drain_body).
UNREAD_INPUT = "erp.unread_input"


def body_limit(path: str) -> int | None:
    """Return the largest body accepted on ``path``: ``DATA_UPLOAD_MAX_MEMORY_SIZE``, or more on an import path."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and re.search(settings.IMPORT_BODY_PATHS, path):
        return max(limit, settings.IMPORT_MAX_BODY_BYTES)
    return limit


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


def dechunked(environ: dict) -> dict:
    """Return ``environ`` with a chunked body without a length read into memory, with its true length.

    Any other request is returned as it is. See the module docstring for the limit and a broken body.
    """
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("CONTENT_LENGTH"):
        return environ
    limit = body_limit(environ.get("PATH_INFO", ""))
    broken = False
    try:
        body = environ["wsgi.input"].read() if limit is None else environ["wsgi.input"].read(limit + 1)
    except BROKEN_FRAMING:
        body, broken = b"", True
    return {
        **environ,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        CHUNKED_BODY_BROKEN: broken,
        UNREAD_INPUT: environ["wsgi.input"],
    }


def is_text_encoding(name: str) -> bool:
    """True if ``name`` is a codec that turns text into bytes (``str.encode`` refuses the others)."""
    try:
        "".encode(name)
    except (LookupError, UnicodeError):
        return False
    return True


class WSGIRequest(wsgi.WSGIRequest):
    def _set_content_type_params(self, meta):
        self.content_type, self.content_params = parse_header_parameters(meta.get("CONTENT_TYPE", ""))
        charset = self.content_params.get("charset")
        if charset and is_text_encoding(charset):
            self.encoding = charset


class WSGIHandler(wsgi.WSGIHandler):
    request_class = WSGIRequest

    def __call__(self, environ, start_response):
        return super().__call__(dechunked(environ), start_response)


def get_wsgi_application() -> WSGIHandler:
    """Like :func:`django.core.wsgi.get_wsgi_application`, reading chunked bodies, with :class:`WSGIRequest`."""
    django.setup(set_prefix=False)
    return WSGIHandler()
