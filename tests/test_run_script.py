"""scripts/run.py before it starts anything: taken ports, the masked broker, ``make manage``'s arguments."""

import os
import random
import socket
import subprocess
import sys
from pathlib import Path

from run import SERVICES, broker_description, taken_ports

ROOT = Path(__file__).resolve().parent.parent


def _free_base() -> int:
    start = random.randrange(28000, 37000, 10)  # apart from the ranges other checkouts' runs pick
    return next(base for base in range(start, 38000, 10) if not taken_ports(base))


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    skipped = {"DATABASE_URL", "ERP_POSTGRES_URL", "ERP_DB_PREFIX", "BROKER_URL", "DJANGO_DEBUG"}
    inherited = {k: v for k, v in os.environ.items() if k not in skipped}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run.py"), *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_broker_is_shown_without_its_password():
    # when
    shown = broker_description({"BROKER_URL": "amqp://erp:s3cret-Pass@rabbitmq:5672//"})

    # then
    assert shown == "amqp://erp:**@rabbitmq:5672//"
    assert broker_description({}) == "filesystem"


def test_a_taken_port_is_named_before_anything_is_made_or_migrated(tmp_path):
    # given another program listening on auth_svc's port
    base = _free_base()
    auth_port = base + next(s.port_offset for s in SERVICES if s.name == "auth")
    data_dir = tmp_path / "data"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", auth_port))
        squatter.listen()

        # when
        result = _run(ERP_PORT_BASE=str(base), ERP_DATA_DIR=str(data_dir))

    # then it stops at once, says which port and how to choose others, and made nothing
    assert result.returncode == 1
    assert f"port {auth_port} (auth) already in use" in result.stdout
    assert "ERP_PORT_BASE=" in result.stdout and "make run" in result.stdout
    assert not data_dir.exists()


def test_manage_without_a_known_service_lists_the_services(tmp_path):
    # when
    result = _run("manage", "contacts", "outbox_status", ERP_DATA_DIR=str(tmp_path / "data"))

    # then
    assert result.returncode == 2
    assert "SERVICE=<gateway, contact, auth, inventory, sales, purchase>" in result.stdout
    assert "got SERVICE='contacts'" in result.stdout
