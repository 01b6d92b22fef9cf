"""The imports' larger body limit, and a 413 every client can read (a real gunicorn, Python's urllib)."""

import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.test import RequestFactory

from common.exceptions import error_body
from common.middleware import _read_whole
from common.wsgi import body_limit, dechunked
from erp_testkit import auth_client
from erp_testkit.processes import stop_process, wait_for_start

from .test_metrics import COMMON_DIR, GUNICORN_CONF, _database_env, _free_port
from .test_metrics import _get as _status

TOO_LARGE = error_body(413, "payload_too_large", "The request body is larger than this service accepts.")


@pytest.fixture
def import_path(settings):
    """/widgets takes an import's limit: 128 bytes where every other path takes 64."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    settings.IMPORT_MAX_BODY_BYTES = 128
    settings.IMPORT_BODY_PATHS = r"^/widgets$"


def _body(size: int) -> bytes:
    return json.dumps({"name": "gear", "quantity": 3}).encode().ljust(size)


def test_the_import_paths_are_the_apis_and_the_admins():
    # then: 16 MiB on the imports (services' and gateway's paths, admin pages), 1 MiB elsewhere
    for path in ("/items/import", "/api/customers/import", "/vendors/import", "/admin/inventory/item/import/"):
        assert body_limit(path) == 16 * 1024 * 1024, path
    for path in ("/items", "/items/import/x", "/api/items/importer", "/admin/inventory/item/"):
        assert body_limit(path) == 1024 * 1024, path


@pytest.mark.django_db
def test_an_import_path_reads_a_body_over_the_general_limit(import_path):
    # when
    response = auth_client("inventory_manager").generic("POST", "/widgets", _body(128), content_type="application/json")

    # then: read whole and handed to the view
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_an_import_path_refuses_a_body_over_its_own_limit(import_path):
    # when
    response = auth_client("inventory_manager").generic("POST", "/widgets", _body(129), content_type="application/json")

    # then
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response["Connection"] == "close"


@pytest.mark.django_db
def test_a_chunked_body_on_an_import_path_is_read_up_to_its_limit(import_path):
    # given: what gunicorn hands over for a chunked request, read by common.wsgi
    environ = dechunked(
        {
            "CONTENT_LENGTH": "",
            "HTTP_TRANSFER_ENCODING": "chunked",
            "PATH_INFO": "/widgets",
            "wsgi.input": io.BytesIO(_body(128)),
        }
    )

    # when
    response = auth_client("inventory_manager").generic(
        "POST", "/widgets", b"", content_type="application/json", **environ
    )

    # then
    assert response.status_code == 201, response.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker_class", ["gthread", "gevent"])
def test_pythons_urllib_reads_the_413_of_a_5_mb_body(worker_class, tmp_path):
    # given: the test project under gunicorn, as the services (gthread) and the gateway (gevent) run
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "common.wsgi:get_wsgi_application()",
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=COMMON_DIR,
        # TMPDIR: the metrics folder the config makes, which a server stopped while it starts leaves behind.
        env={
            **os.environ,
            **_database_env(),
            "GUNICORN_WORKER_CLASS": worker_class,
            "PROMETHEUS_MULTIPROC_DIR": "",
            "TMPDIR": str(tmp_path),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_start(server, lambda: _status(port, "/health/live") == 200, "gunicorn")
        # when: urllib sends the whole body (with Connection: close) before it reads anything
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/widgets",
            data=b"x" * (5 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 (http, built above)
    finally:
        stop_process(server, "gunicorn")

    # then: the answer, not a connection reset
    assert refused.value.code == 413
    assert json.loads(refused.value.read()) == TOO_LARGE


def test_djangos_request_reads_the_body_the_middleware_kept(settings):
    """Pins what ``common.middleware._read_whole`` relies on in Django: ``body`` is ``_body`` once set,
    and the form parsers and ``read()`` read ``_stream`` (Django's ``body`` sets both the same way)."""
    # given: a form body over Django's own limit, which request.body alone refuses
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    body = b"name=" + b"x" * 100
    request = RequestFactory().generic("POST", "/widgets", body, content_type="application/x-www-form-urlencoded")

    # when
    kept = _read_whole(request)

    # then
    assert kept == request.body == body
    assert request.POST["name"] == "x" * 100
    assert request.read() == body  # a parser reading the stream again gets it whole
