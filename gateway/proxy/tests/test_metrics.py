"""The gateway's metrics: exact moves per service and status class, failures, limits, the token cache, the listener."""

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from erp_testkit.faults import wait_until
from erp_testkit.processes import stop_process, wait_for_start
from proxy import ratelimit

from .conftest import closed_port_url


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _requests(service: str, method: str, status: str) -> float:
    return _value("erp_gateway_requests_total", service=service, method=method, status=status)


def _snapshot(*keys: tuple[str, str, str]) -> dict:
    return {key: _requests(*key) for key in keys}


def test_requests_are_counted_exactly_by_service_method_and_status_class(upstreams, bearer):
    # given
    keys = [
        ("inventory", "GET", "2xx"),
        ("contact", "POST", "2xx"),
        ("sales", "GET", "4xx"),
        ("auth", "POST", "2xx"),
        ("gateway", "GET", "4xx"),
        ("gateway", "GET", "2xx"),
    ]
    before = _snapshot(*keys)
    latency_before = _value("erp_gateway_request_duration_seconds_count", service="inventory")

    # when: 3 item reads, 2 customer writes, 4 order reads without a token, 1 login, 2 unknown paths, 1 health
    client = Client()
    for _ in range(3):
        assert client.get("/api/items", HTTP_AUTHORIZATION=bearer).status_code == 200
    for _ in range(2):
        client.post("/api/customers", data="{}", content_type="application/json", HTTP_AUTHORIZATION=bearer)
    for _ in range(4):
        assert client.get("/api/sales/orders").status_code == 401
    client.post("/api/auth/login", data="{}", content_type="application/json")
    client.get("/api/nowhere")
    client.get("/nowhere")
    assert client.get("/health/live").status_code == 200

    # then
    moved = {key: _requests(*key) - before[key] for key in keys}
    assert moved == {
        ("inventory", "GET", "2xx"): 3,
        ("contact", "POST", "2xx"): 2,
        ("sales", "GET", "4xx"): 4,
        ("auth", "POST", "2xx"): 1,
        ("gateway", "GET", "4xx"): 2,
        ("gateway", "GET", "2xx"): 1,
    }
    assert _value("erp_gateway_request_duration_seconds_count", service="inventory") - latency_before == 3
    assert _value("erp_gateway_requests_in_flight") == 0


def test_unknown_methods_share_one_label(upstreams, bearer):
    # given
    before = _requests("inventory", "other", "5xx")

    # when: forwarded, and the (fake) upstream answers 501 Not Implemented
    Client().generic("BREW", "/api/items", HTTP_AUTHORIZATION=bearer)

    # then
    assert _requests("inventory", "other", "5xx") - before == 1
    assert (
        REGISTRY.get_sample_value(
            "erp_gateway_requests_total", {"service": "inventory", "method": "BREW", "status": "2xx"}
        )
        is None
    )


def test_upstream_errors_and_timeouts_are_counted_by_kind(upstreams, bearer, settings):
    # given
    kinds = ("unreachable", "read_timeout")
    before = {kind: _value("erp_gateway_upstream_errors_total", service="inventory", kind=kind) for kind in kinds}
    five_before = _requests("inventory", "GET", "5xx")

    # when: one dropped connection, one answer too slow, one upstream that refuses
    Client().get("/api/items/drop", HTTP_AUTHORIZATION=bearer)
    Client().get("/api/items/slow", HTTP_AUTHORIZATION=bearer)
    settings.GATEWAY = {
        **settings.GATEWAY,
        "UPSTREAMS": {**settings.GATEWAY["UPSTREAMS"], "inventory": closed_port_url()},
    }
    Client().get("/api/items", HTTP_AUTHORIZATION=bearer)

    # then
    moved = {
        kind: _value("erp_gateway_upstream_errors_total", service="inventory", kind=kind) - before[kind]
        for kind in kinds
    }
    assert moved == {"unreachable": 2, "read_timeout": 1}
    assert _requests("inventory", "GET", "5xx") - five_before == 3


def test_rate_limited_requests_and_token_cache_lookups_are_counted(upstreams, bearer, settings):
    # given: burst 2 per anonymous address
    settings.GATEWAY = {
        **settings.GATEWAY,
        "RATE_LIMITS": {**settings.GATEWAY["RATE_LIMITS"], "ANONYMOUS_RATE": 0.001, "ANONYMOUS_BURST": 2},
    }
    ratelimit.reset()
    limited_before = _value("erp_gateway_rate_limited_total", client="anonymous")
    hits_before, misses_before = (_value("erp_gateway_token_cache_total", result=r) for r in ("hit", "miss"))

    # when: 5 anonymous logins, and one token used 4 times
    for _ in range(5):
        Client().post("/api/auth/login", data="{}", content_type="application/json")
    for _ in range(4):
        Client().get("/api/items", HTTP_AUTHORIZATION=bearer)

    # then
    assert _value("erp_gateway_rate_limited_total", client="anonymous") - limited_before == 3
    assert _requests("auth", "POST", "4xx") >= 3
    assert _value("erp_gateway_token_cache_total", result="miss") - misses_before == 1
    assert _value("erp_gateway_token_cache_total", result="hit") - hits_before == 3


def test_the_published_port_serves_no_metrics(upstreams):
    assert Client().get("/metrics").status_code == 404


GATEWAY_DIR = Path(__file__).resolve().parents[2]
GUNICORN_CONF = GATEWAY_DIR.parent / "scripts" / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway_served(port: int, **env: str) -> Iterator[None]:
    """Run the gateway under gunicorn (scripts/gunicorn.conf.py) on ``port``, ``env`` over the test's environment."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=GATEWAY_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_start(server, lambda: _get(f"http://127.0.0.1:{port}/health/live")[0] == 200, "the gateway")
        yield
    finally:
        stop_process(server, "the gateway")


def _get(url: str, method: str = "GET") -> tuple[int, str]:
    try:
        request = urllib.request.Request(url, method=method)  # noqa: S310 (a loopback URL the test built)
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def _sample(text: str, prefix: str) -> float:
    return next((float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_the_metrics_listener_sums_every_workers_requests(worker_class, tmp_path):
    # given: the gateway under gunicorn, 2 workers, its metrics on a second address
    port, metrics_port = _free_port(), _free_port()
    env = {
        "GUNICORN_WORKER_CLASS": worker_class,
        "GUNICORN_WORKERS": "2",
        "GUNICORN_KEEPALIVE": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "ERP_METRICS_BIND": f"127.0.0.1:{metrics_port}",
    }
    # HEADs: a GET of the start-up wait that timed out on a busy machine may still be answered (and counted) later.
    prefix = 'erp_gateway_requests_total{method="HEAD",service="gateway",status="2xx"} '
    with gateway_served(port, **env):
        wait_until(lambda: _get(f"http://127.0.0.1:{metrics_port}/metrics")[0] == 200, timeout=10, message="metrics")
        before = _sample(_get(f"http://127.0.0.1:{metrics_port}/metrics")[1], prefix)
        # when: 40 requests on fresh connections, so both workers answer some
        for _ in range(40):
            assert _get(f"http://127.0.0.1:{port}/health/live", method="HEAD")[0] == 200
        published = _get(f"http://127.0.0.1:{port}/metrics")[0]
        scrapes = [_sample(_get(f"http://127.0.0.1:{metrics_port}/metrics")[1], prefix) for _ in range(3)]
        # and a readiness probe, which starts a worker's poll of the withdrawn access (no auth_svc here)
        _get(f"http://127.0.0.1:{port}/health/ready")
        text = _get(f"http://127.0.0.1:{metrics_port}/metrics")[1]
    # then: every scrape counts all 40 (scrapes are not requests of the gateway), and the edge has no /metrics
    assert scrapes == [before + 40] * 3
    assert published == 404
    # and the age of the withdrawn access's last fetch is among the workers' gauges
    assert "# TYPE erp_access_withdrawals_age_seconds gauge" in text
