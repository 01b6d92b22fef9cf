"""compose.yaml is valid and means what the platform needs, checked offline (there is no Docker engine here).

The compose-spec JSON schema stands in for ``docker compose config``: the copy vendored by
check-jsonschema (pinned in requirements/dev.txt; ``check_jsonschema/builtin_schemas/vendor/
compose-spec.json``, from the compose-spec project through SchemaStore, its sha256 in the
package beside it). The semantic checks below are what a schema cannot say: every process
of the local run has its container running the same deploy/Procfile line, migrations run
once before a service's other processes, every process is probed, each service has its own
database, only the edge is published and no secret has a value in the file.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from run import GATEWAY_SERVER_ENV, SERVICES, processes, procfile_commands

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE = yaml.safe_load(TEXT)
ALL = COMPOSE["services"]
INFRASTRUCTURE = {"postgres", "rabbitmq"}
ONE_SHOT_ROLES = {"migrate"}
# Names of variables that hold a secret wherever they appear.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PRIVATE_KEY")
INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[?-])([^}]*))?\}")
# Secrets a deployment may leave empty (no SMTP login without SMTP).
OPTIONAL_SECRETS = {"EMAIL_HOST_PASSWORD"}


def _compose_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def _env(definition: dict) -> dict:
    return definition.get("environment") or {}


def _containers_of(service) -> dict[str, dict]:
    """Every container that runs this service's image."""
    image = ALL[service.name]["image"]
    return {name: d for name, d in ALL.items() if d.get("image") == image}


def _role(definition: dict) -> str:
    (role,) = definition["command"]
    return role


def _with_placeholders(value: str) -> str:
    """Return ``value`` with its i-th interpolation replaced by ``<i>``."""
    for index, match in enumerate(list(INTERPOLATION.finditer(value))):
        value = value.replace(match.group(0), f"<{index}>", 1)
    return value


def _required_variables() -> set[str]:
    return {m.group(1) for m in INTERPOLATION.finditer(TEXT) if m.group(2) == ":?"}


def test_it_validates_against_the_compose_spec_schema():
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft202012Validator(_compose_schema()).iter_errors(COMPOSE)
    ]

    assert errors == []


def test_the_schema_catches_a_misspelt_key():
    # given a typo the engine would reject
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["sales-relay"]["restrat"] = broken["services"]["sales-relay"].pop("restart")

    # then the schema names it: the check above can fail
    errors = list(jsonschema.Draft202012Validator(_compose_schema()).iter_errors(broken))
    assert any("restrat" in error.message for error in errors), errors


def test_every_process_of_the_local_run_has_its_container_running_the_same_procfile_line():
    commands = procfile_commands()
    for service in SERVICES:
        containers = _containers_of(service)
        # the local run's processes (one replica each), the web server named after the service; its one
        # background process (worker, beat, relay, consumer) is a container per role: each scales apart
        expected = {
            service.name if role == "web" else f"{service.name}-{role}": role
            for process in processes(service)
            for role in process.roles
        }
        if service.database:
            expected[f"{service.name}-migrate"] = "migrate"
        assert {name: _role(d) for name, d in containers.items()} == expected, service.name
        assert all(role in commands for role in expected.values())


def test_the_image_runs_the_procfile_through_its_entrypoint():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()

    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in dockerfile
    assert "COPY deploy/Procfile deploy/entrypoint.sh /app/deploy/" in dockerfile


def test_every_built_image_has_its_dockerfile_and_service_folder():
    built = {name: d for name, d in ALL.items() if "build" in d}
    for name, definition in built.items():
        build = definition["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
        assert (ROOT / build["args"]["SERVICE"] / "manage.py").is_file(), name
    # one build per image: the service's other containers run what it built
    assert sorted(d["image"] for d in built.values()) == sorted({d["image"] for d in built.values()})
    assert {d["build"]["args"]["SERVICE"] for d in built.values()} == {s.folder for s in SERVICES}
    for name, definition in ALL.items():
        image = definition["image"]
        assert not image.startswith("erp/") or image in {d["image"] for d in built.values()}, name


def test_our_images_are_built_here_never_pulled():
    for name, definition in ALL.items():
        if definition["image"].startswith("erp/"):
            # a plain `docker compose up` would otherwise pull a registry's erp/<name> and run it unbuilt
            assert definition["pull_policy"] == "never", name


def test_every_long_running_process_is_probed_and_restarted():
    for name, definition in ALL.items():
        if name in INFRASTRUCTURE:
            assert definition["healthcheck"]["test"], name
            assert definition["restart"] == "unless-stopped", name
            continue
        role = _role(definition)
        if role in ONE_SHOT_ROLES:
            assert definition["restart"] == "no" and "healthcheck" not in definition, name
            continue
        assert definition["restart"] == "unless-stopped", name
        # the process's own signal: readiness for a web server, the heartbeat for a worker
        assert definition["healthcheck"]["test"] == ["CMD", "/app/deploy/entrypoint.sh", "health", role], name
        assert not definition["healthcheck"].get("disable"), name


def test_migrations_run_once_before_the_services_other_processes():
    for service in SERVICES:
        if not service.database:
            continue
        migrate = ALL[f"{service.name}-migrate"]
        assert migrate["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "rabbitmq": {"condition": "service_healthy"},
        }
        for name, definition in _containers_of(service).items():
            if name != f"{service.name}-migrate":
                assert definition["depends_on"][f"{service.name}-migrate"] == {
                    "condition": "service_completed_successfully"
                }, name


def test_dependencies_wait_for_health_or_completion():
    for name, definition in ALL.items():
        for dependency, condition in (definition.get("depends_on") or {}).items():
            assert dependency in ALL, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert ALL[dependency]["healthcheck"]["test"], dependency
            else:
                assert condition["condition"] == "service_completed_successfully", (name, dependency)
                assert ALL[dependency]["restart"] == "no", dependency
    # the edge opens once every service behind it is ready
    assert ALL["gateway"]["depends_on"] == {
        s.name: {"condition": "service_healthy"} for s in SERVICES if s.name != "gateway"
    }


def test_each_service_has_its_own_database():
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    databases = {}
    for service in SERVICES:
        urls = {_env(d).get("DATABASE_URL") for d in _containers_of(service).values()}
        assert len(urls) == 1, service.name  # every process of a service, the same database
        (url,) = urls
        if service.database:
            assert url.startswith("postgres://") and url.endswith("@postgres:5432/" + service.name), url
            databases[service.name] = url.rsplit("/", 1)[1]
        else:
            assert url is None
    assert set(databases.values()) == created == {s.name for s in SERVICES if s.database}


def test_only_the_edge_is_published():
    published = {name: d["ports"] for name, d in ALL.items() if d.get("ports")}

    assert published == {"gateway": ["${ERP_HTTP_PORT:-8000}:8000"]}


def test_the_gateways_metrics_listen_on_a_port_of_their_own_that_is_exposed_never_published():
    gateway = ALL["gateway"]
    host, _, port = _env(gateway)["ERP_METRICS_BIND"].rpartition(":")

    assert (host, gateway["expose"]) == ("0.0.0.0", [port])  # noqa: S104 (the container listens on its network; nothing publishes it)
    assert all(f":{port}" not in published for published in gateway["ports"])
    assert all("ERP_METRICS_BIND" not in _env(d) for name, d in ALL.items() if name != "gateway")


def test_the_gateway_runs_the_same_server_as_in_the_local_run():
    gateway = _env(ALL["gateway"])

    assert {name: gateway.get(name) for name in GATEWAY_SERVER_ENV} == GATEWAY_SERVER_ENV


def test_no_secret_has_a_value_or_a_default_in_the_file():
    for name, definition in ALL.items():
        for variable, value in _env(definition).items():
            value = str(value)
            used = list(INTERPOLATION.finditer(value))
            if SECRET_NAME.search(variable):
                assert used, f"{name}: {variable} has a literal value"
                residue = INTERPOLATION.sub("", value)
                # what is left are separators and service names (SERVICE_SECRETS "contact:...,sales:...")
                assert re.fullmatch(r"[a-z:,]*", residue), f"{name}: {variable} holds {residue!r}"
            # a password inside a URL is a required variable too
            placeholders = _with_placeholders(value)
            for password in re.findall(r"://[^:/@]*:([^@]*)@", placeholders):
                assert re.fullmatch(r"<\d+>", password), f"{name}: {variable} has a literal password"
                assert used[int(password[1:-1])].group(2) == ":?", f"{name}: {variable}"
            for match in used:
                if SECRET_NAME.search(match.group(1)) and match.group(1) not in OPTIONAL_SECRETS:
                    assert match.group(2) == ":?", f"{name}: {match.group(0)} must be required, without a default"


def test_registration_is_closed_unless_the_deployer_opens_it():
    # open, anyone who reaches the published port could choose the finance_manager role
    for name, definition in _containers_of(next(s for s in SERVICES if s.name == "auth")).items():
        assert _env(definition)["AUTH_OPEN_REGISTRATION"] == "${AUTH_OPEN_REGISTRATION:-0}", name


def test_only_auth_sees_the_private_key():
    holders = {name for name, d in ALL.items() if "JWT_PRIVATE_KEY" in _env(d)}

    assert holders == {"auth", "auth-migrate", "auth-worker", "auth-beat"}


def test_production_mode_everywhere():
    for name, definition in ALL.items():
        if name not in INFRASTRUCTURE:
            assert _env(definition)["DJANGO_DEBUG"] == "0", name


# What a process of an image reads from its environment, recorded in a fresh interpreter: the web
# server's gunicorn settings (loaded before the app), the settings and the events settings.
READ_PROBE = """
import json, os, runpy, sys
read, copying = set(), []
getitem, iterate = os._Environ.__getitem__, os._Environ.__iter__
def recording(self, key):
    if not copying:  # a copy of the whole environment (dict(os.environ)) reads no name in particular
        read.add(key)
    return getitem(self, key)
def iterating(self):
    copying.append(True)
    try:
        yield from iterate(self)
    finally:
        copying.pop()
os._Environ.__getitem__, os._Environ.__iter__ = recording, iterating
runpy.run_path(sys.argv[1])
import django
django.setup()
from common.events import conf
conf.events_settings()
print(json.dumps(sorted(read)))
"""


def _variables_read(folder: str, environ: dict[str, str]) -> set[str]:
    """Every environment variable the processes of ``folder``'s image read, given ``environ``."""
    with tempfile.TemporaryDirectory() as tmp:
        image = {"ERP_DATA_DIR": f"{tmp}/data", "DJANGO_STATIC_ROOT": f"{tmp}/static"}  # the Dockerfile's ENV
        result = subprocess.run(
            [sys.executable, "-c", READ_PROBE, str(ROOT / "scripts" / "gunicorn.conf.py")],
            cwd=ROOT / folder,
            env={
                "PATH": os.environ["PATH"],
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "PROMETHEUS_MULTIPROC_DIR": tmp,
                **image,
                **environ,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


@functools.cache
def variables_read_by_the_platform() -> frozenset[str]:
    """What some process of some image reads, each image given compose's environment (a ``make env`` .env)."""
    from make_env import generated_values

    generated = generated_values(sorted(_required_variables()))
    # optional settings given a value, so that what they switch on is read too
    given = {"EMAIL_HOST": "smtp.example.test", **generated}
    read: set[str] = set()
    for service in SERVICES:
        environ = {
            name: INTERPOLATION.sub(lambda m: given.get(m.group(1)) or m.group(3) or "", str(value))
            for definition in _containers_of(service).values()
            for name, value in _env(definition).items()
        }
        read |= _variables_read(service.folder, environ)
    return frozenset(read)


def test_every_variable_compose_gives_is_one_the_processes_read():
    # a misspelt name (GUNICORN_WORKER) would be given and never read
    given = {name for service, definition in ALL.items() if service not in INFRASTRUCTURE for name in _env(definition)}

    assert given - variables_read_by_the_platform() == set()


def test_what_is_read_includes_gunicorns_settings_and_what_an_optional_setting_switches_on():
    read = variables_read_by_the_platform()

    assert {"GUNICORN_WORKERS", "ERP_DB_POOL_MAX_SIZE", "SERVICE_SECRETS", "EMAIL_PORT"} <= read
    assert "GUNICORN_WORKER" not in read


def test_env_example_names_every_variable_compose_reads():
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.M))

    assert {m.group(1) for m in INTERPOLATION.finditer(TEXT)} == named


def _make_env(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_env.py"), *args], capture_output=True, text=True, timeout=60
    )


def _dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value.removeprefix("'").removesuffix("'")
    return values


def test_make_env_writes_every_required_secret_and_a_working_key_pair(tmp_path):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

    # when
    result = _make_env("--output", str(tmp_path / ".env"))

    # then: private to its owner, every required variable filled, each secret its own
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    values = _dotenv(tmp_path / ".env")
    assert _required_variables() <= {name for name, value in values.items() if value}
    secrets = [values[name] for name in _required_variables() if not name.startswith("JWT_")]
    assert len(set(secrets)) == len(secrets) and min(len(s) for s in secrets) >= 43
    # and the pair signs and verifies (one line with \n: the settings' inline-key form)
    private = load_pem_private_key(values["JWT_PRIVATE_KEY"].replace("\\n", "\n").encode(), password=None)
    public = load_pem_public_key(values["JWT_PUBLIC_KEY"].replace("\\n", "\n").encode())
    signature = private.sign(b"erp", padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, b"erp", padding.PKCS1v15(), hashes.SHA256())


def test_make_env_never_replaces_secrets_in_use(tmp_path):
    # given an .env in use
    (tmp_path / ".env").write_text("DJANGO_SECRET_KEY=in-use\n")

    # when
    result = _make_env("--output", str(tmp_path / ".env"))

    # then
    assert result.returncode == 1
    assert "exists; keeping it" in result.stderr
    assert (tmp_path / ".env").read_text() == "DJANGO_SECRET_KEY=in-use\n"


def test_make_env_prints_the_kubernetes_secret_that_the_manifests_reference():
    # when
    result = _make_env("--kubernetes")

    # then: a Secret whose keys are the ones deploy/k8s/ reads from erp-secrets
    assert result.returncode == 0, result.stderr
    secret = yaml.safe_load(result.stdout)
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == (
        "Secret",
        "erp-secrets",
        "erp",
    )
    from test_k8s import secret_keys_referenced

    assert set(secret["stringData"]) == secret_keys_referenced("erp-secrets")


@pytest.mark.parametrize("command", ["make env", "docker compose up --build", "deploy/k8s/README.md"])
def test_the_deployment_guide_gives_the_commands(command):
    guide = (ROOT / "docs" / "deployment.md").read_text()

    assert command in guide


def test_every_admin_has_its_own_sso_client_and_auth_registers_them_all():
    # given
    clients = _env(ALL["auth"])["SSO_CLIENTS"]
    procfile = (ROOT / "deploy" / "Procfile").read_text()
    migrate = next(line for line in procfile.splitlines() if line.startswith("migrate:"))
    # then: one client per admin, each admin given its own secret, registered by auth's migrate one-shot
    for service in ("contact", "inventory", "sales", "purchase", "auth"):
        secret = f"${{SSO_CLIENT_SECRET_{service.upper()}:?run make env (writes .env)}}"
        assert f"{service}:{service}-admin:{secret}" in clients, service
        assert _env(ALL[service])["SSO_CLIENT_SECRET"] == secret, service
    assert _role(ALL["auth-migrate"]) == "migrate" and "register_sso_clients" in migrate
    assert "SSO_CLIENTS" not in _env(ALL["contact"]) and "SSO_CLIENT_SECRET" not in _env(ALL["gateway"])
