"""compose.yaml is complete and consistent, checked offline (there is no Docker engine here).

These checks stand in for ``docker compose config``: the file parses, every service
of CONTRACT §1 is there on its port with its own database, every reference
(images, volumes, dependencies, commands, folders) resolves, and no secret has a default.
"""

import re
from pathlib import Path

import pytest
import yaml
from run import GATEWAY_SERVER_ENV, SERVICES, processes, runs_consumer

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
ALL = COMPOSE["services"]


def _env(definition: dict) -> dict:
    return definition.get("environment") or {}


def test_every_contract_service_runs_on_its_port():
    for service in SERVICES:
        name = service.name
        assert name in ALL, name
        published = f"{8000 + service.port_offset}:8000"
        # Only the gateway faces clients; the services listen on the host's loopback.
        assert ALL[name]["ports"] == [published if name == "gateway" else f"127.0.0.1:{published}"]
        assert ALL[name]["build"]["args"]["SERVICE"] == service.folder
        assert (ROOT / service.folder / "manage.py").exists()


def test_the_gateway_runs_the_same_server_as_in_the_local_run():
    gateway = _env(ALL["gateway"])

    assert {name: gateway.get(name) for name in GATEWAY_SERVER_ENV} == GATEWAY_SERVER_ENV


def test_each_service_has_its_own_database():
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    urls = {name: _env(d).get("DATABASE_URL") for name, d in ALL.items() if _env(d).get("DATABASE_URL")}
    used = {url.rsplit("/", 1)[1] for url in urls.values()}
    assert used == created == {s.name for s in SERVICES if s.database}
    web_urls = [urls[s.name] for s in SERVICES if s.database]
    assert len(set(web_urls)) == len(web_urls)


def test_relays_and_consumers_match_the_local_run():
    for service in SERVICES:
        assert (f"{service.name}-relay" in ALL) == service.publishes
        assert (f"{service.name}-consumer" in ALL) == runs_consumer(service)
        for role, command in (("relay", "relay_outbox"), ("consumer", "consume_events")):
            definition = ALL.get(f"{service.name}-{role}")
            if definition:
                assert definition["command"] == ["python", "manage.py", command]
                assert definition["image"] == ALL[service.name]["image"]
                assert definition["environment"] == ALL[service.name]["environment"]
                # Started with their service (it migrates), not once it is healthy.
                assert definition["depends_on"] == {service.name: {"condition": "service_started"}}
                # The worker's own liveness signal, not a disabled check (common.events.liveness).
                assert definition["healthcheck"]["test"] == ["CMD", "python", "manage.py", "worker_health", role]


def test_workers_match_the_local_run():
    # every supervised process of the local run but the web servers has a container of its own
    for service in SERVICES:
        for name, command in processes(service)[1:]:
            assert name in ALL, name
            assert ALL[name]["command"] == ["python", "manage.py", *command.split("manage.py ", 1)[1].split()]
            assert ALL[name]["environment"] == ALL[service.name]["environment"]


def test_images_without_build_are_built_by_another_service():
    built = {d["image"] for d in ALL.values() if "build" in d}
    for name, definition in ALL.items():
        if "build" not in definition:
            image = definition["image"]
            assert image in built or not image.startswith("erp/"), name


def test_references_resolve():
    volumes = set(COMPOSE["volumes"])
    for name, definition in ALL.items():
        for dependency, condition in (definition.get("depends_on") or {}).items():
            assert dependency in ALL, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition["condition"] == "service_healthy":
                assert not ALL[dependency].get("healthcheck", {}).get("disable"), dependency
        for mount in definition.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
            else:
                assert source in volumes, f"{name} mounts undeclared volume {source}"
        build = definition.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).exists()


def test_only_auth_sees_the_private_key():
    for name, definition in ALL.items():
        mounts = " ".join(definition.get("volumes", []))
        has_private = "JWT_PRIVATE_KEY_FILE" in _env(definition) or "jwt-private" in mounts
        # auth-mailer is auth_svc's own worker (same image and settings).
        assert has_private == (name in {"auth", "auth-mailer", "keygen"}), name


@pytest.mark.parametrize(
    "variable",
    ["DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "SERVICE_SECRET_SALES", "SSO_CLIENT_SECRET_AUTH"],
)
def test_secrets_have_no_default(variable):
    text = (ROOT / "compose.yaml").read_text()
    assert re.search(rf"\$\{{{variable}:\?", text), f"{variable} must be required"
    assert not re.search(rf"\$\{{{variable}:-", text), f"{variable} must not have a default"


def test_production_mode_everywhere():
    for name, definition in ALL.items():
        if name.startswith(("postgres", "rabbitmq", "keygen")):
            continue
        assert _env(definition)["DJANGO_DEBUG"] == "0", name


def test_dockerfile_copies_what_exists():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.M):
        if "$" not in source:
            assert (ROOT / source).exists(), source
    assert "USER erp" in dockerfile


def test_readme_env_example_sets_every_required_variable():
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "compose.yaml").read_text()))
    readme = (ROOT / "README.md").read_text()
    example = readme.split("cat > .env <<ENV", 1)[1].split("ENV\n", 1)[0]
    for variable in required:
        # The per-service secrets are made in a loop over the services' names.
        prefix = next((p for p in ("SERVICE_SECRET_", "SSO_CLIENT_SECRET_") if variable.startswith(p)), None)
        if prefix:
            assert f"{prefix}$s=" in example and variable.removeprefix(prefix) in example, variable
        else:
            assert f"{variable}=" in example, variable


def test_every_admin_has_its_own_sso_client_and_auth_registers_them_all():
    # given
    clients = _env(ALL["auth"])["SSO_CLIENTS"]
    # then
    for service in ("contact", "inventory", "sales", "purchase", "auth"):
        secret = f"${{SSO_CLIENT_SECRET_{service.upper()}:?set it in .env}}"
        assert f"{service}:{service}-admin:{secret}" in clients, service
        assert _env(ALL[service])["SSO_CLIENT_SECRET"] == secret, service
    assert "register_sso_clients" in " ".join(ALL["auth"]["command"])
    assert "SSO_CLIENTS" not in _env(ALL["contact"]) and "SSO_CLIENT_SECRET" not in _env(ALL["gateway"])
