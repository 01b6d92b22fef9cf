"""deploy/k8s/ validates strictly against the Kubernetes schemas and runs what the local run and compose run.

Validation is kubernetes-validate (pinned in requirements/dev.txt) in strict mode (an unknown
field is an error), against the oldest and the newest Kubernetes this deployment is meant for.
The semantic checks: a Deployment for every process of every service with probes and
resources, a migration Job per service that every pod waits for, Services, the HPAs, the
gateway's PodDisruptionBudget and Ingress, and no secret anywhere but by reference.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from run import SERVICES, processes, procfile_commands

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
DOCUMENTS = [
    document
    for resource in KUSTOMIZATION["resources"]
    for document in yaml.safe_load_all((K8S / resource).read_text())
    if document
]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL|BROKER_URL")


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


def test_the_kustomization_lists_every_manifest_but_the_secret_template():
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}

    assert set(KUSTOMIZATION["resources"]) == manifests - {"secrets.template.yaml"}
    assert not any(d["kind"] == "Secret" for d in DOCUMENTS)
    assert {image["name"] for image in KUSTOMIZATION["images"]} == {f"erp/{s.name}" for s in SERVICES}


def test_a_deployment_for_every_process_of_every_service_with_probes_and_resources():
    deployments = _of_kind("Deployment")
    commands = procfile_commands()
    expected = {}
    for service in SERVICES:
        for process in processes(service):
            expected[service.name if process.role == "web" else f"{service.name}-{process.role}"] = (
                service,
                process.role,
            )

    assert set(deployments) == set(expected)
    for name, (service, role) in expected.items():
        (container,) = _pod_spec(deployments[name])["containers"]
        assert container["image"] == f"erp/{service.name}:latest", name
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
    (ingress,) = _of_kind("Ingress").values()
    backends = {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert backends == {"gateway"} and ingress["spec"]["tls"]


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


def test_only_auth_pods_get_the_private_key():
    holders = {
        workload["metadata"]["name"]
        for workload in _all_pod_workloads()
        for container in _containers(workload)
        if any(v["name"] == "JWT_PRIVATE_KEY" for v in container.get("env", []))
    }

    assert holders == {"auth", "auth-mailer", "auth-migrate"}


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
