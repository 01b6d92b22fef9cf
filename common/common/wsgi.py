"""The services' WSGI entry point: Django's handler, with a request that ignores a non-text charset.

Django believes any ``charset`` of ``Content-Type`` that :func:`codecs.lookup` knows,
bytes-to-bytes codecs included (``zlib``, ``base64``, ``bz2``...), and decodes the query
string with it while it builds the request, before any middleware runs: a
``GET /customers?search=a`` sent with ``Content-Type: application/json; charset=zlib``
was a ``LookupError``, an HTML 500 from gunicorn with a traceback in its log, at the
gateway and at every service, without a token. Here such a charset is ignored, as Django
ignores one it does not know, and the request is read as UTF-8 (DRF's parsers refuse a
non-text charset for bodies in the same way: ``rest_framework.parsers.get_encoding``).
"""

from __future__ import annotations

import django
from django.core.handlers import wsgi
from django.utils.http import parse_header_parameters


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


def get_wsgi_application() -> WSGIHandler:
    """Like :func:`django.core.wsgi.get_wsgi_application`, with :class:`WSGIRequest`."""
    django.setup(set_prefix=False)
    return WSGIHandler()
