"""Hostile request bodies (contract §2): deep or repeated JSON, multipart, oversize and chunked bodies."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData
from rest_framework.exceptions import ParseError

from common.parsers import MAX_DEPTH, JSONParser, nesting_depth_exceeds
from common.wsgi import dechunked
from erp_testkit import auth_client
from tests.project.models import Gadget

TOO_LARGE = {
    "status": 413,
    "error": {
        "type": "payload_too_large",
        "message": "The request body is larger than this service accepts.",
        "details": None,
    },
}


def _bad_request(message: str) -> dict:
    return {"status": 400, "error": {"type": "bad_request", "message": message, "details": None}}


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _post_raw(body: bytes, content_type: str = "application/json", **extra):
    return auth_client("inventory_manager").generic("POST", "/widgets", body, content_type=content_type, **extra)


# ---------------------------------------------------------------- JSON


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_a_bad_request(depth):
    # when
    response = _post_raw(_nested(depth).encode())

    # then
    assert response.status_code == 400
    assert response.json() == _bad_request(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")


def test_json_at_the_depth_limit_reaches_the_view():
    # when: 32 levels parse; the serializer then says what is wrong
    response = _post_raw(json.dumps({"name": json.loads(_nested(MAX_DEPTH - 1)), "quantity": 1}).encode())

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation"


@pytest.mark.parametrize(
    ("depth", "exceeds"),
    [(0, False), (1, False), (MAX_DEPTH, False), (MAX_DEPTH + 1, True)],
)
def test_nesting_depth_is_counted_in_containers(depth, exceeds):
    value = json.loads(_nested(depth)) if depth else "scalar"

    assert nesting_depth_exceeds(value, MAX_DEPTH) is exceeds
    assert nesting_depth_exceeds({"a": [1, {"b": value}]}, MAX_DEPTH + 3) is exceeds


def test_duplicate_keys_are_a_bad_request():
    # when: two readers could disagree on which value counts, so neither does
    response = _post_raw(b'{"name": "gear", "quantity": 1, "quantity": 500}')

    # then
    assert response.status_code == 400
    assert response.json() == _bad_request("JSON parse error - duplicate key 'quantity'.")


@pytest.mark.parametrize("body", [b'{"name": "gear", "quantity": NaN}', b"{", b"\xff\xfe"])
def test_malformed_json_is_a_bad_request(body):
    # when
    response = _post_raw(body)

    # then
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"


def test_parser_returns_plain_data():
    assert JSONParser().parse(io.BytesIO(b'{"a": [1, {"b": null}]}')) == {"a": [1, {"b": None}]}
    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(b'{"a": 1, "a": 1}'))


def test_json_and_form_bodies_are_accepted():
    # when
    as_json = auth_client("inventory_manager").post("/widgets", {"name": "gear", "quantity": 2}, format="json")
    as_form = auth_client("inventory_manager").post(
        "/widgets", "name=gear&quantity=2", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert as_json.status_code == as_form.status_code == 201
    assert as_json.json()["data"] == as_form.json()["data"] == {"name": "gear", "quantity": 2}


# ---------------------------------------------------------------- multipart


@pytest.mark.parametrize(
    "data",
    [
        {"name": "gear", "quantity": "2"},
        {"name": SimpleUploadedFile("gear", b"x"), "quantity": "2"},
    ],
    ids=["text-parts", "file-part"],
)
def test_multipart_is_unsupported(data):
    # when
    response = auth_client("inventory_manager").post("/widgets", data, format="multipart")

    # then
    assert response.status_code == 415
    assert response.json()["error"]["type"] == "unsupported_media_type"


# ---------------------------------------------------------------- size and framing


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    return 64


def test_default_body_limit_is_one_mebibyte(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1_048_576


def test_body_limit_comes_from_the_environment(tmp_path):
    # when: the shared settings imported in a fresh interpreter with ERP_MAX_BODY_BYTES set
    probe = "import common.settings.base as s; print(s.DATA_UPLOAD_MAX_MEMORY_SIZE)"
    environ = {**os.environ, "DJANGO_DEBUG": "1", "ERP_DATA_DIR": str(tmp_path), "ERP_MAX_BODY_BYTES": "2048"}
    output = subprocess.run([sys.executable, "-c", probe], env=environ, capture_output=True, text=True, check=True)

    # then
    assert output.stdout.strip().splitlines()[-1] == "2048"


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_body_over_the_limit_is_413(small_limit, content_type):
    # when
    response = _post_raw(b"x" * (small_limit + 1), content_type=content_type)

    # then
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_body_at_the_limit_is_read(small_limit):
    body = json.dumps({"name": "gear", "quantity": 3}).encode().ljust(small_limit)

    response = _post_raw(body)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("kind", "expected"), [("too_big", TOO_LARGE), ("suspicious", _bad_request("Malformed request."))]
)
def test_django_refusing_a_body_inside_a_view_is_4xx_not_500(kind, expected):
    # when: RequestDataTooBig / SuspiciousOperation raised while a view reads the body
    response = auth_client().get(f"/errors/{kind}")

    # then
    assert response.status_code == expected["status"]
    assert response.json() == expected


def _payload(body: bytes) -> io.BytesIO:
    # A file, as a WSGI server's input is (Django's FakePayload refuses reads past its length).
    return io.BytesIO(body)


def _chunked(wsgi_input) -> dict:
    """Return the environ of a chunked request as common.wsgi hands it to Django.

    gunicorn hands over "Transfer-Encoding: chunked" with no length and the de-chunked bytes
    as its input; common.wsgi.dechunked reads them before the request is built.
    """
    return dechunked({"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": wsgi_input})


def test_chunked_body_is_read_whole():
    # given
    body = json.dumps({"name": "gear", "quantity": 4}).encode()

    # when
    response = _post_raw(body, **_chunked(_payload(body)))

    # then
    assert response.status_code == 201
    assert response.json()["data"] == {"name": "gear", "quantity": 4}


def test_chunked_body_over_the_limit_is_413(small_limit):
    body = b'{"name": "' + b"x" * small_limit + b'"}'

    response = _post_raw(body, **_chunked(_payload(body)))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_too_many_form_fields_is_a_bad_request_not_500(settings):
    # given
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(11))

    # when
    response = _post_raw(body.encode(), content_type="application/x-www-form-urlencoded")

    # then
    assert response.status_code == 400
    assert response.json() == _bad_request("Malformed request.")


class _BrokenInput(io.BytesIO):
    """A WSGI input whose client broke the framing after ``body``: the server raises ``error`` on reading on."""

    def __init__(self, body: bytes, error: Exception):
        super().__init__(body)
        self.error = error

    def read(self, size=-1):
        data = super().read(size)
        if size is None or size < 0 or len(data) < size:
            raise self.error
        return data


BROKEN_BODY = _bad_request("The request body was cut short or badly framed.")


@pytest.mark.parametrize(
    "error",
    [NoMoreData(), InvalidChunkSize(b"zz"), ChunkMissingTerminator(b"XX"), ConnectionResetError()],
    ids=["connection-closed", "bad-chunk-size", "no-chunk-terminator", "reset"],
)
@pytest.mark.django_db
def test_broken_chunked_body_is_a_bad_request_and_reaches_no_view(error):
    # given: what gunicorn's de-chunking input raises when the client breaks the framing
    broken = _BrokenInput(b'{"name": "gear"', error)

    # when
    response = auth_client("inventory_manager").generic(
        "POST",
        "/gadgets",
        b"",
        content_type="application/json",
        **_chunked(broken),
    )

    # then: a 400 in the envelope, not a 500 with a traceback, and nothing created
    assert response.status_code == 400
    assert response.json() == BROKEN_BODY
    assert Gadget.objects.count() == 0


@pytest.mark.django_db
def test_body_shorter_than_its_content_length_is_refused():
    # given: the client declared 40 bytes and closed after 16 (gunicorn then hands over what came)
    body = b'{"name": "gear"}'

    # when
    response = auth_client("inventory_manager").generic(
        "POST", "/gadgets", b"", content_type="application/json", CONTENT_LENGTH="40", **{"wsgi.input": _payload(body)}
    )

    # then: half a body is never judged as if it were whole
    assert response.status_code == 400
    assert response.json() == BROKEN_BODY
    assert Gadget.objects.count() == 0
