"""The gateway under gunicorn (its gevent worker) answers a body over its limit with a 413 Python's urllib reads.

urllib sends the whole body before it reads anything: a server that answers and closes while the body
is still coming makes it see a reset connection instead (contract §2). The CSV imports take 16 MiB.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from .test_metrics import _free_port, gateway_served

IMPORT_LIMIT = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def gateway_port():
    port = _free_port()
    with gateway_served(port, GUNICORN_WORKER_CLASS="gevent", PROMETHEUS_MULTIPROC_DIR=""):
        yield port


@pytest.mark.parametrize(
    ("path", "size"),
    [("/api/items/import", IMPORT_LIMIT + 1), ("/api/customers/import", IMPORT_LIMIT + 1), ("/api/items", 5 * 2**20)],
)
def test_urllib_reads_the_413_of_a_body_over_the_paths_limit(gateway_port, path, size):
    # given
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway_port}{path}",
        data=b"x" * size,
        headers={"Content-Type": "text/csv", "Authorization": "Bearer not-checked-before-the-size"},
        method="POST",
    )

    # when
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)  # noqa: S310 (http, built above)

    # then: the answer, not a connection reset
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"]["type"] == "payload_too_large"


def test_an_import_of_exactly_16_mib_passes_the_size_check_to_the_token_check(gateway_port):
    # given: a body at the imports' limit, with a token that is no token
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway_port}/api/items/import",
        data=b"x" * IMPORT_LIMIT,
        headers={"Content-Type": "text/csv", "Authorization": "Bearer not-a-token"},
        method="POST",
    )

    # when
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)  # noqa: S310 (http, built above)

    # then: read whole, then refused for the token
    assert refused.value.code == 401
