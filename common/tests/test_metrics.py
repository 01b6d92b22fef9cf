"""/metrics and the request counter, in one process and under gunicorn with several workers."""

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from common.metrics import REQUESTS
from erp_testkit.processes import stop_process, wait_for_start


def _count(method: str, status: str) -> float:
    return REQUESTS.labels(method, status)._value.get()


@pytest.mark.django_db
def test_answered_requests_are_counted():
    # given
    before = _count("GET", "200")

    # when
    APIClient().get("/health/live")

    # then
    assert _count("GET", "200") == before + 1
    assert b'erp_http_requests_total{method="GET",status="200"}' in APIClient().get("/metrics").content


@pytest.mark.django_db
def test_unknown_methods_share_one_label():
    # given
    before = _count("other", "405")

    # when: a client invents methods
    APIClient().generic("BREW", "/health/live")
    APIClient().generic("XYZZY", "/health/live")

    # then: they do not each get a time series
    assert _count("other", "405") == before + 2
    assert b'method="BREW"' not in APIClient().get("/metrics").content


@pytest.mark.django_db(transaction=True)
def test_metrics_under_gunicorn_count_every_workers_requests(tmp_path):
    # given: the test project under gunicorn with the shared config (2 workers, multiprocess mode), its
    # temporary folders in tmp_path
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "django.core.wsgi:get_wsgi_application()",
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--keep-alive",
            "0",
        ],
        cwd=COMMON_DIR,
        env={**os.environ, **_database_env(), "PROMETHEUS_MULTIPROC_DIR": "", "TMPDIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_start(server, lambda: _get(port, "/health/live") == 200, "gunicorn")
        before = _count_in(_scrape(port), "GET", "200")
        # when: 40 requests on fresh connections, so both workers answer some
        for _ in range(40):
            assert _get(port, "/health/live") == 200
        # then: whichever worker answers the scrape, it counts all 40 (plus the scrapes themselves)
        counts = [_count_in(_scrape(port), "GET", "200") for _ in range(4)]
        # and: the metrics folder the config made for this start is there while it runs
        assert [path.name.startswith("erp-metrics-") for path in tmp_path.iterdir()] == [True]
    finally:
        stop_process(server, "gunicorn")
    assert counts == [before + 40 + 1 + n for n in range(4)]
    # and: gone once it stopped
    assert list(tmp_path.iterdir()) == []


COMMON_DIR = Path(__file__).resolve().parents[1]
GUNICORN_CONF = COMMON_DIR.parent / "scripts" / "gunicorn.conf.py"


def _database_env() -> dict[str, str]:
    db = connection.settings_dict
    return {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except OSError:
        return 0


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def _count_in(text: str, method: str, status: str) -> float:
    prefix = f'erp_http_requests_total{{method="{method}",status="{status}"}} '
    return next((float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)), 0.0)
