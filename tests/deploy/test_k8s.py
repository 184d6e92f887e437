"""The Kubernetes deployment (deploy/k8s, ``kubectl apply -k deploy/k8s``): valid manifests, a
shutdown that outlasts the drain, and monitoring that cannot drift from deploy/prometheus and
deploy/grafana.

The core manifests are validated strictly with kubernetes-validate (no cluster needed); the
Prometheus Operator's resources, which it has no schema for, against the subset of their CRDs'
schemas in crd_schemas.py. ``kubectl kustomize`` renders the whole; kubectl is not a Debian
package, so where it is missing that test is skipped with the reason, in CI too. The capacity
plan and PgBouncer: test_k8s_pools.py.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prometheus_client import Gauge

from gourmet.config import ServerSettings, group_default
from gourmet.telemetry import metrics
from tests.deploy.crd_schemas import CRD_GROUP, CRD_SCHEMAS
from tests.deploy.k8s_manifests import (
    K8S,
    KUSTOMIZATION,
    PGBOUNCER_INI,
    ROOT,
    SECRET_EXAMPLE,
    container,
    documents,
    kustomization,
    pod_labels,
    pod_spec,
    prestop_seconds,
    resource,
    resources,
    selects,
    settings_literals,
)

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "gourmet.json"

# The oldest Kubernetes the manifests are meant for (autoscaling/v2 and policy/v1 are GA there).
KUBERNETES_VERSION = "1.30"
# What `kubectl kustomize` makes of the kustomization: kind -> how many.
RENDERED_KINDS = {
    "ConfigMap": 3,  # settings, pgbouncer.ini, the Grafana dashboard
    "Service": 2,
    "Deployment": 2,
    "PodDisruptionBudget": 1,
    "HorizontalPodAutoscaler": 1,
    "PrometheusRule": 1,
    "ServiceMonitor": 1,
}


# ---------------------------------------------------------------------------------------------
# Valid manifests


def test_the_kustomization_lists_every_manifest_but_the_secret() -> None:
    on_disk = {
        str(path.relative_to(K8S))
        for path in K8S.rglob("*.yaml")
        if path not in (KUSTOMIZATION, SECRET_EXAMPLE)
    }
    assert set(kustomization()["resources"]) == on_disk
    # No namespace: `kubectl apply -k deploy/k8s -n <namespace>` (or an overlay) picks it.
    assert "namespace" not in kustomization()
    assert all("namespace" not in r["metadata"] for r in resources())


CORE = [r for r in [*resources(), *documents(SECRET_EXAMPLE)] if r["apiVersion"] != CRD_GROUP]


@pytest.mark.parametrize("manifest", CORE, ids=lambda r: f"{r['kind']}/{r['metadata']['name']}")
def test_core_manifests_validate_strictly(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_strict_validation_refuses_an_unknown_field() -> None:
    deployment = copy.deepcopy(resource("Deployment", "gourmet"))
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 30  # not a field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_crd_resources_match_their_crd_schemas() -> None:
    crd = [r for r in resources() if r["apiVersion"] == CRD_GROUP]
    assert sorted(r["kind"] for r in crd) == sorted(CRD_SCHEMAS)
    for manifest in crd:
        jsonschema.validate(manifest, CRD_SCHEMAS[manifest["kind"]])


def test_the_crd_schemas_refuse_what_the_crds_refuse() -> None:
    rule = copy.deepcopy(resource("PrometheusRule", "gourmet"))
    rule["spec"]["groups"][0]["rules"][0]["for"] = "10 minutes"
    monitor = copy.deepcopy(resource("ServiceMonitor", "gourmet"))
    monitor["spec"]["endpoints"][0]["portName"] = "http"
    exprless = copy.deepcopy(resource("PrometheusRule", "gourmet"))
    del exprless["spec"]["groups"][0]["rules"][0]["expr"]
    for broken in (rule, monitor, exprless):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, CRD_SCHEMAS[broken["kind"]])


# ---------------------------------------------------------------------------------------------
# kubectl kustomize


@cache
def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        # kubectl is no Debian package CI could install: a skip, in CI too.
        reason = "kubectl is not installed (not a Debian package): kustomize output not checked"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_kustomize_renders_every_resource_valid() -> None:
    output = rendered()
    assert Counter(r["kind"] for r in output) == RENDERED_KINDS
    for manifest in output:
        assert manifest["metadata"]["labels"]["app.kubernetes.io/part-of"] == "gourmet"
        if manifest["apiVersion"] == CRD_GROUP:
            jsonschema.validate(manifest, CRD_SCHEMAS[manifest["kind"]])
        else:  # the generated ConfigMaps too
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    [hpa] = [r for r in output if r["kind"] == "HorizontalPodAutoscaler"]
    assert (
        hpa["spec"]["maxReplicas"]
        == resource("HorizontalPodAutoscaler", "gourmet")["spec"]["maxReplicas"]
    )


def test_kustomize_points_the_pods_at_the_generated_config_maps() -> None:
    output = rendered()
    config_maps = {r["metadata"]["name"]: r for r in output if r["kind"] == "ConfigMap"}
    deployments = {r["metadata"]["name"]: r for r in output if r["kind"] == "Deployment"}
    gourmet = container(pod_spec(deployments["gourmet"]), "gourmet")
    [settings_ref] = [e["configMapRef"]["name"] for e in gourmet["envFrom"] if "configMapRef" in e]
    assert settings_ref.startswith("gourmet-settings-")  # with kustomize's content hash
    assert config_maps[settings_ref]["data"] == settings_literals()
    [ini_volume] = [
        v["configMap"]["name"]
        for v in pod_spec(deployments["pgbouncer"])["volumes"]
        if "configMap" in v
    ]
    assert config_maps[ini_volume]["data"]["pgbouncer.ini"] == PGBOUNCER_INI.read_text()
    [dashboard] = [c for c in config_maps.values() if "gourmet.json" in c.get("data", {})]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["data"]["gourmet.json"] == DASHBOARD.read_text()


# ---------------------------------------------------------------------------------------------
# Stopping, probes and rollouts


def test_the_grace_period_outlasts_prestop_drain_and_shutdown() -> None:
    literals = settings_literals()
    pod = pod_spec(resource("Deployment", "gourmet"))
    drain = float(literals.get("GOURMET_SERVER__DRAIN_S", group_default(ServerSettings, "drain_s")))
    shutdown = float(
        literals.get(
            "GOURMET_SERVER__SHUTDOWN_TIMEOUT_S",
            group_default(ServerSettings, "shutdown_timeout_s"),
        )
    )
    prestop = prestop_seconds(container(pod, "gourmet")["lifecycle"])
    assert prestop > 0  # the endpoint removal reaches every proxy before the drain starts
    assert pod["terminationGracePeriodSeconds"] > prestop + drain + shutdown


def test_probes_ports_and_command() -> None:
    literals = settings_literals()
    gourmet = container(pod_spec(resource("Deployment", "gourmet")), "gourmet")
    assert gourmet["command"] == ["gourmet", "serve"]
    assert gourmet["image"] == "gourmet:latest"
    [port] = gourmet["ports"]
    assert port == {"name": "http", "containerPort": int(literals["GOURMET_SERVER__PORT"])}
    assert literals["GOURMET_SERVER__HOST"] == "0.0.0.0"
    probes = {
        kind: gourmet[kind]["httpGet"]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert probes["readinessProbe"] == {"path": "/readyz", "port": "http"}
    assert probes["livenessProbe"] == {"path": "/healthz", "port": "http"}
    assert probes["startupProbe"]["port"] == "http"
    service = resource("Service", "gourmet")["spec"]
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]


def test_rollouts_and_disruptions_keep_capacity() -> None:
    gourmet = resource("Deployment", "gourmet")
    spec = gourmet["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    # The autoscaler owns the count: a count here would be re-applied by every apply.
    assert "replicas" not in spec
    hpa = resource("HorizontalPodAutoscaler", "gourmet")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gourmet",
    }
    assert hpa["minReplicas"] >= 2
    up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
    assert up["stabilizationWindowSeconds"] == 0
    assert up["selectPolicy"] == "Max"
    assert {p["type"]: p["value"] for p in up["policies"]} == {"Percent": 100, "Pods": 4}
    assert down["stabilizationWindowSeconds"] >= 300

    labels = pod_labels(gourmet)
    bouncer_labels = pod_labels(resource("Deployment", "pgbouncer"))
    assert selects(spec["selector"]["matchLabels"], labels)
    for selector in (
        resource("PodDisruptionBudget", "gourmet")["spec"]["selector"]["matchLabels"],
        resource("Service", "gourmet")["spec"]["selector"],
    ):
        assert selects(selector, labels)
        assert not selects(selector, bouncer_labels)
    pdb = resource("PodDisruptionBudget", "gourmet")["spec"]
    assert pdb.get("maxUnavailable") == 1 or pdb.get("minAvailable", 0) < hpa["minReplicas"]


def test_the_hpa_pods_metric_is_a_gauge_the_app_exports() -> None:
    hpa = resource("HorizontalPodAutoscaler", "gourmet")["spec"]
    kinds = {m["type"] for m in hpa["metrics"]}
    assert kinds == {"Resource", "Pods"}
    [cpu] = [m["resource"] for m in hpa["metrics"] if m["type"] == "Resource"]
    assert cpu["name"] == "cpu"
    assert cpu["target"] == {"type": "Utilization", "averageUtilization": 70}
    [pods] = [m["pods"] for m in hpa["metrics"] if m["type"] == "Pods"]
    gauges = {
        family.name
        for gauge in vars(metrics).values()
        if isinstance(gauge, Gauge)
        for family in gauge.describe()
    }
    assert pods["metric"]["name"] in gauges


def test_the_root_filesystem_is_read_only_but_the_data_dir_is_not() -> None:
    literals = settings_literals()
    pod = pod_spec(resource("Deployment", "gourmet"))
    gourmet = container(pod, "gourmet")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert gourmet["securityContext"]["readOnlyRootFilesystem"] is True
    assert gourmet["securityContext"]["allowPrivilegeEscalation"] is False
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    writable = {m["mountPath"] for m in gourmet["volumeMounts"] if m["name"] in empty_dirs}
    # The workers' metrics files (PROMETHEUS_MULTIPROC_DIR) and ready files go under it.
    assert literals["GOURMET_DATA_DIR"] in writable
    assert "/tmp" in writable


# ---------------------------------------------------------------------------------------------
# The image


def dockerfile() -> dict[str, list[str]]:
    instructions: dict[str, list[str]] = {}
    for line in DOCKERFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.setdefault(keyword.upper(), []).append(rest.strip())
    return instructions


def test_the_image_runs_gourmet_serve_as_the_pods_user() -> None:
    image = dockerfile()
    pod = pod_spec(resource("Deployment", "gourmet"))
    assert image["FROM"] == ["python:3.11-slim"]
    assert image["USER"] == [str(pod["securityContext"]["runAsUser"])]
    assert image["EXPOSE"] == [settings_literals()["GOURMET_SERVER__PORT"]]
    assert image["CMD"] == ['["gourmet", "serve"]']


def test_the_image_carries_every_data_file_of_the_package() -> None:
    """`pip install .` in deploy/Dockerfile installs a wheel: a template or static file that
    pyproject's package-data does not name is not in the image, and its page fails there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["gourmet"]
    package = ROOT / "src" / "gourmet"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    data = {
        path
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    missing = sorted(str(path.relative_to(package)) for path in data - shipped)
    assert missing == [], f"not in the wheel (pyproject package-data): {missing}"


# ---------------------------------------------------------------------------------------------
# Monitoring: the same rules and dashboard as deploy/prometheus and deploy/grafana


def test_the_prometheus_rule_is_the_promtool_tested_rules() -> None:
    rule = resource("PrometheusRule", "gourmet")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


def test_the_dashboard_config_map_is_the_dashboard() -> None:
    [generator] = [
        g for g in kustomization()["configMapGenerator"] if g["name"] == "gourmet-grafana-dashboard"
    ]
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}
    [copied] = generator["files"]
    assert (K8S / copied).read_bytes() == DASHBOARD.read_bytes()


def test_the_service_monitor_scrapes_the_job_the_rules_name() -> None:
    monitor = resource("ServiceMonitor", "gourmet")["spec"]
    service = resource("Service", "gourmet")
    assert selects(monitor["selector"]["matchLabels"], service["metadata"]["labels"])
    [endpoint] = monitor["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    # Without jobLabel the operator names the job after the Service; the rules select on it.
    assert "jobLabel" not in monitor
    jobs = set(re.findall(r'job="([^"]+)"', RULES.read_text()))
    assert jobs == {service["metadata"]["name"]}
