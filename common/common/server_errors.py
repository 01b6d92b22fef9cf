"""The web server's own refusals in the error envelope: gunicorn's answer to a request it cannot parse.

gunicorn answers a request it cannot read (a garbled request line or method, a header name
it refuses, a header or URI over its limits, a bad ``Content-Length``) itself, before Django
sees it, with a small HTML page. A client of the API expects the envelope from every answer
(contract §2), so ``scripts/gunicorn.conf.py`` calls :func:`install`, which puts
:func:`write_error` in place of ``gunicorn.util.write_error``: the one function gunicorn's
workers write those pages with (``Worker.handle_error``), so gunicorn still decides the status
and explains the fault, and only the body changes. It is rendered as the services render every
error (``common.exceptions.error_response``).

Why a replaced function and not a hook: gunicorn has no setting or server hook for its own
error pages, and the supported way round, a worker class of our own (one for gthread, one
for gevent) overriding ``Worker.handle_error``, would copy its mapping of some twenty parse
errors to a status, reason and message, which changes between releases (27 added
``ObsoleteFolding``, ``ExpectationFailed``, the HTTP/2 preface). Replacing the writer keeps
gunicorn's decisions and changes the body alone. ``tests/test_server_errors.py`` pins what
this relies on: ``Worker.handle_error`` writes through ``gunicorn.util.write_error``, looked up
when it writes, with the signature ``(sock, status_int, reason, mesg)``; an upgrade that
changes either fails there.

gunicorn's config runs in its arbiter, before the app is loaded (and, for the gateway's gevent
worker, before gevent patches the standard library), so this module imports neither Django
nor anything of common's at import time: only :func:`write_error` does, in a worker that has
loaded the app.
"""

from __future__ import annotations


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Write gunicorn's refusal as the error envelope (gunicorn's own signature) and let it close."""
    from gunicorn.util import write_nonblock

    from .exceptions import INTERNAL_MESSAGE, error_response

    # A 500 here is a crash gunicorn caught outside Django (no message), said as handler500 says it;
    # 501 is a transfer coding the client asked for that the server does not implement.
    if status_int == 500:
        message, error_type = INTERNAL_MESSAGE, "internal"
    else:
        message, error_type = mesg or f"{reason}.", "bad_request" if status_int == 501 else None
    response = error_response(status_int, message, error_type=error_type)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {response['Content-Type']}\r\n"
        f"Content-Length: {len(response.content)}\r\n"
        "\r\n"
    )
    write_nonblock(sock, head.encode("latin-1") + response.content)


def install() -> None:
    """Make gunicorn's workers answer their refusals with :func:`write_error`."""
    from gunicorn import util

    util.write_error = write_error
