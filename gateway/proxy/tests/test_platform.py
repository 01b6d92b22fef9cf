"""The shared platform checks that fit a service without a database, and the gateway's settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from erp_testkit import service_checks as checks

GATEWAY_DIR = Path(__file__).resolve().parents[2]


def test_unknown_path_is_enveloped_404():
    checks.assert_unknown_path_is_enveloped_404()


def test_request_id_is_echoed_or_made():
    checks.assert_request_id_is_echoed_or_made()


def test_every_request_writes_one_json_access_line(caplog):
    checks.assert_every_request_writes_one_json_access_line(caplog)


def _gateway_settings(**env: str) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.GATEWAY))"
    )
    inherited = {key: value for key, value in os.environ.items() if not key.endswith("_SERVICE_URL")}
    inherited.pop("ERP_PORT_BASE", None)
    environ = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1", **env}
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=GATEWAY_DIR, env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("port_base", "expected"),
    [
        (None, {"contact": 8001, "auth": 8002, "inventory": 8003, "sales": 8004, "purchase": 8005}),
        ("9100", {"contact": 9101, "auth": 9102, "inventory": 9103, "sales": 9104, "purchase": 9105}),
    ],
)
def test_upstream_defaults_follow_the_port_base(port_base, expected):
    # when
    gateway = _gateway_settings(**({"ERP_PORT_BASE": port_base} if port_base else {}))

    # then
    assert gateway["UPSTREAMS"] == {name: f"http://127.0.0.1:{port}" for name, port in expected.items()}
    assert (gateway["UPSTREAM_TIMEOUT"], gateway["CONNECT_TIMEOUT"]) == (10.0, 2.0)


def test_upstream_urls_and_timeouts_come_from_the_environment():
    # when
    gateway = _gateway_settings(
        SALES_SERVICE_URL="http://sales.internal:80/",
        GATEWAY_UPSTREAM_TIMEOUT="3.5",
        GATEWAY_CONNECT_TIMEOUT="0.5",
        ERP_PORT_BASE="9100",
    )

    # then
    assert gateway["UPSTREAMS"]["sales"] == "http://sales.internal:80"
    assert gateway["UPSTREAMS"]["contact"] == "http://127.0.0.1:9101"
    assert (gateway["UPSTREAM_TIMEOUT"], gateway["CONNECT_TIMEOUT"]) == (3.5, 0.5)


def test_django_level_400_is_enveloped_json():
    from django.test import Client

    # when a request names a host the gateway does not serve (Django refuses it before any view)
    response = Client().get("/api/customers", HTTP_HOST="evil.example")

    # then the answer is still the contract's error envelope
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "bad_request"


def test_the_edge_does_not_trust_a_clients_forwarded_proto():
    from django.conf import settings

    # a client could otherwise make a plain-HTTP request look secure to every service behind
    assert settings.SECURE_PROXY_SSL_HEADER is None
