"""The WSGI entry point every service uses (common.wsgi): a non-text charset is ignored, not a 500."""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from gunicorn.http.errors import NoMoreData

from common.wsgi import WSGIHandler, is_text_encoding
from erp_testkit import issue_token


def _environ(content_type: str, body: bytes = b"", method: str = "GET") -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/widgets",
        "QUERY_STRING": "search=a",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "localhost",
        "HTTP_AUTHORIZATION": f"Bearer {issue_token(role='inventory_manager')}",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _call(handler, environ: dict) -> tuple[str, bytes]:
    statuses = []
    body = b"".join(handler(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], body


@pytest.mark.parametrize("charset", ["zlib", "base64", "bz2", "rot13"])
def test_djangos_own_handler_still_fails_on_a_non_text_charset(charset):
    # Why common.wsgi exists: Django cannot even build the request. The day this fails,
    # Django has fixed it and the services can go back to django.core.wsgi.
    with pytest.raises(LookupError):
        _call(DjangoWSGIHandler(), _environ(f"application/json; charset={charset}"))


@pytest.mark.parametrize("charset", ["zlib", "base64", "bz2", "rot13"])
def test_a_non_text_charset_is_ignored(charset):
    # when
    status, _ = _call(WSGIHandler(), _environ(f"application/json; charset={charset}"))

    # then
    assert status == "200 OK"


def test_a_body_under_an_ignored_charset_is_read_as_utf8():
    # when
    body = b'{"name": "gear", "quantity": 2}'
    status, answer = _call(WSGIHandler(), _environ("application/json; charset=zlib", body, method="POST"))

    # then
    assert status == "201 Created"
    assert b'"name":"gear"' in answer


def _chunked(wsgi_input) -> dict:
    environ = _environ("application/json", method="POST")
    return {**environ, "CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": wsgi_input}


def test_a_chunked_body_is_read_whole_before_django_builds_the_request():
    # given: what gunicorn hands over for "Transfer-Encoding: chunked": no length, the de-chunked bytes
    body = b'{"name": "gear", "quantity": 4}'

    # when
    status, answer = _call(WSGIHandler(), _chunked(io.BytesIO(body)))

    # then
    assert status == "201 Created"
    assert b'"quantity":4' in answer


def test_djangos_own_handler_reads_a_chunked_body_as_empty():
    # Why common.wsgi reads chunked bodies: Django sizes a body by Content-Length alone. The day
    # this fails, Django reads them itself and dechunked can go.
    body = b'{"name": "gear", "quantity": 4}'

    status, answer = _call(DjangoWSGIHandler(), _chunked(io.BytesIO(body)))

    assert status == "400 Bad Request"
    assert b'{"field":"name","message":"This field is required."}' in answer


def test_a_broken_chunked_body_is_refused_in_the_envelope(settings):
    # given: gunicorn's de-chunking input raises when the client breaks the framing
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise NoMoreData()

    # when
    status, answer = _call(WSGIHandler(), _chunked(Broken()))

    # then
    assert status == "400 Bad Request"
    assert b'"message":"The request body was cut short or badly framed."' in answer


@pytest.mark.parametrize(("name", "text"), [("utf-8", True), ("latin-1", True), ("zlib", False), ("nope", False)])
def test_is_text_encoding(name, text):
    assert is_text_encoding(name) is text
