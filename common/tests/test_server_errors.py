"""gunicorn's own refusals (a request it cannot parse) are written in the error envelope (common.server_errors)."""

from __future__ import annotations

import inspect
import json
import logging
import socket

import pytest
from gunicorn import util
from gunicorn.http.errors import InvalidHeaderName, InvalidRequestLine, LimitRequestHeaders
from gunicorn.workers.base import Worker

from common import server_errors


def _answer(write) -> tuple[bytes, dict[str, str], bytes]:
    """Return (status line, headers, body) of what ``write(sock)`` sent on one end of a socket pair."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        write(ours)
        ours.shutdown(socket.SHUT_WR)
        raw = b""
        while chunk := theirs.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    return status_line.encode(), dict(line.split(": ", 1) for line in lines), body


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(util, "write_error", util.write_error)  # put gunicorn's back afterwards
    server_errors.install()


@pytest.mark.parametrize(
    ("exc", "status_line", "message"),
    [
        (
            InvalidRequestLine("GARBAGE"),
            b"HTTP/1.1 400 Bad Request",
            "Invalid Request Line 'Invalid HTTP request line: 'GARBAGE''",
        ),
        (InvalidHeaderName("Bad Header"), b"HTTP/1.1 400 Bad Request", "Invalid HTTP header name: 'Bad Header'"),
        (
            LimitRequestHeaders("limit request headers fields size"),
            b"HTTP/1.1 431 Request Header Fields Too Large",
            "Error parsing headers: 'limit request headers fields size'",
        ),
    ],
)
def test_a_request_gunicorn_cannot_parse_is_refused_in_the_envelope(installed, exc, status_line, message):
    # given: a worker as gunicorn's arbiter makes it, once the config installed the writer
    worker = object.__new__(Worker)
    worker.log = logging.getLogger("gunicorn.error")

    # when gunicorn's own error path answers the refusal
    line, headers, body = _answer(lambda sock: worker.handle_error(None, sock, ("127.0.0.1", 40000), exc))

    # then: gunicorn's status and explanation, in the envelope rendered the services' way
    status = int(status_line.split()[1])
    envelope = {"status": status, "error": {"type": "bad_request", "message": message, "details": None}}
    assert (line, body) == (status_line, json.dumps(envelope, separators=(",", ":")).encode())
    assert headers == {"Connection": "close", "Content-Type": "application/json", "Content-Length": str(len(body))}


def test_a_crash_gunicorn_caught_says_what_handler500_says():
    # when
    line, _, body = _answer(lambda sock: server_errors.write_error(sock, 500, "Internal Server Error", ""))

    # then: no details, the type of a bug
    assert line == b"HTTP/1.1 500 Internal Server Error"
    assert body == b'{"status":500,"error":{"type":"internal","message":"Internal server error.","details":null}}'


def test_an_unimplemented_transfer_coding_is_the_clients_request_not_a_bug():
    # when
    _, _, body = _answer(lambda sock: server_errors.write_error(sock, 501, "Not Implemented", "gzip"))

    # then
    assert body == b'{"status":501,"error":{"type":"bad_request","message":"gzip","details":null}}'


def test_gunicorn_writes_its_refusals_through_the_function_install_replaces():
    # What common.server_errors relies on (README: hand-written parts): the worker's error path
    # calls gunicorn.util.write_error by its module attribute, with this signature. The
    # envelope test above shows the effect; this one names the cause when an upgrade changes it.
    assert list(inspect.signature(util.write_error).parameters) == ["sock", "status_int", "reason", "mesg"]
    assert "util.write_error(client, status_int, reason, mesg)" in inspect.getsource(Worker.handle_error)
