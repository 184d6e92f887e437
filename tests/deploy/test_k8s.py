"""deploy/k8s: every manifest valid for Kubernetes (kubernetes-validate, strict), the
monitoring resources identical to what promtool tests and Grafana shows, the numbers within
the capacity plan, and the whole rendered by ``kubectl kustomize`` when kubectl is here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gourmet.config import Settings
from gourmet.db.plan import Deployment, plan

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.30.0"
CORE = ["deployment.yaml", "service.yaml", "pdb.yaml", "hpa.yaml", "pgbouncer.yaml"]
MAX_CONNECTIONS = 100  # the database the manifests are planned for (kustomization.yaml)
SUPERUSER_RESERVED = 3


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return loaded


def settings() -> dict[str, str]:
    generator = next(
        g for g in kustomization()["configMapGenerator"] if g["name"] == "gourmet-settings"
    )
    return dict(literal.split("=", 1) for literal in generator["literals"])


def pgbouncer_ini() -> dict[str, str]:
    values = {}
    for line in (K8S / "pgbouncer.ini").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith((";", "[")):
            values[key.strip()] = value.strip()
    return values


def by_kind(kind: str) -> dict[str, Any]:
    return next(
        d
        for name in CORE
        for d in documents(name)
        if d["kind"] == kind and d["metadata"]["name"] == "gourmet"
    )


@pytest.mark.parametrize("name", CORE)
def test_each_manifest_is_valid_kubernetes(name: str) -> None:
    for document in documents(name):
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_a_broken_manifest_is_caught() -> None:
    broken = documents("service.yaml")[0]
    broken["spec"]["ports"][0]["portt"] = 80
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_every_file_of_the_kustomization_is_listed_and_present() -> None:
    listed = set(kustomization()["resources"])
    assert set(CORE) <= listed
    for name in listed:
        assert (K8S / name).is_file(), name


def test_the_prometheus_rule_is_the_rules_promtool_tests() -> None:
    (rule,) = documents("monitoring/prometheusrule.yaml")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    tested = yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules.yml").read_text())
    assert rule["spec"]["groups"] == tested["groups"]
    (monitor,) = documents("monitoring/servicemonitor.yaml")
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["spec"]["selector"]["matchLabels"] == by_kind("Service")["spec"]["selector"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")


def test_the_dashboard_is_the_one_in_deploy_grafana() -> None:
    shipped = json.loads((K8S / "monitoring" / "gourmet.json").read_text())
    assert shipped == json.loads((ROOT / "deploy" / "grafana" / "gourmet.json").read_text())


def test_replicas_workers_and_pools_fit_the_capacity_plan() -> None:
    hpa = by_kind("HorizontalPodAutoscaler")
    values = settings()
    ini = pgbouncer_ini()
    result = plan(
        Deployment(
            max_connections=MAX_CONNECTIONS,
            superuser_reserved=SUPERUSER_RESERVED,
            reserved=int(values["GOURMET_DB_RESERVED_CONNECTIONS"]),
            workers_per_pod=int(values["GOURMET_WORKERS"]),
            max_replicas=hpa["spec"]["maxReplicas"],
            pool_size=None,
            pgbouncer_replicas=1,
            pgbouncer_pool_size=None,
            checkouts_per_worker=400.0,
        )
    )
    assert result.fits, result.problem
    assert int(values["GOURMET_REPLICAS"]) == hpa["spec"]["maxReplicas"]
    assert int(values["GOURMET_POOL_MAX_SIZE"]) == result.pool_size
    assert int(ini["default_pool_size"]) == result.pgbouncer_pool_size
    assert int(ini["max_db_connections"]) <= result.pgbouncer_pool_size
    clients = hpa["spec"]["maxReplicas"] * int(values["GOURMET_WORKERS"]) * result.pool_size
    assert int(ini["max_client_conn"]) >= clients
    assert ini["pool_mode"] == "transaction"
    (pgbouncer, _service) = documents("pgbouncer.yaml")
    assert pgbouncer["spec"]["replicas"] == 1


def test_pods_drain_before_they_are_killed() -> None:
    pod = by_kind("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    values = settings()
    needed = (
        int(pre_stop[1])
        + float(values["GOURMET_DRAIN_S"])
        + float(values["GOURMET_SHUTDOWN_TIMEOUT_S"])
    )
    assert pod["terminationGracePeriodSeconds"] > needed
    strategy = by_kind("Deployment")["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0
    behavior = by_kind("HorizontalPodAutoscaler")["spec"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300


def test_kustomize_renders_everything() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # not a Debian package: rendered wherever an operator has it
        pytest.skip("kubectl is not installed; the manifests were validated one by one")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S)], check=True, capture_output=True, text=True
    ).stdout
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered) if d)
    assert kinds == sorted(
        ["ConfigMap"] * 3
        + ["Deployment"] * 2
        + ["Service"] * 2
        + ["HorizontalPodAutoscaler", "PodDisruptionBudget", "PrometheusRule", "ServiceMonitor"]
    )
    for document in yaml.safe_load_all(rendered):
        if document and not document["apiVersion"].startswith("monitoring.coreos.com"):
            kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_gourmet_starts_with_these_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in settings().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GOURMET_DATABASE_URL", "postgresql://gourmet@pgbouncer:6432/gourmet")
    monkeypatch.setenv("GOURMET_LISTEN_DATABASE_URL", "postgresql://gourmet@postgres/gourmet")
    monkeypatch.setenv("GOURMET_STAFF_TOKEN", "a-long-random-secret-" + "x7Qp" * 8)
    loaded = Settings()
    assert loaded.database_pooler == "pgbouncer"
    assert loaded.workers == 2
    assert loaded.trusted_proxies == ["10.0.0.0/8"]
