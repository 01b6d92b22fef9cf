"""The WSGI entry point every service uses (common.wsgi): a non-text charset is ignored, not a 500."""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler

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


@pytest.mark.parametrize(("name", "text"), [("utf-8", True), ("latin-1", True), ("zlib", False), ("nope", False)])
def test_is_text_encoding(name, text):
    assert is_text_encoding(name) is text
