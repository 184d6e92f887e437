"""deploy/k8s read as the cluster would get it: the kustomization, its resources, the generated
settings, the Secret's example and pgbouncer.ini, parsed for tests/deploy/test_k8s.py."""

from __future__ import annotations

import configparser
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from gourmet.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
PGBOUNCER_INI = K8S / "pgbouncer.ini"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def kustomization() -> dict[str, Any]:
    return dict(yaml.safe_load(KUSTOMIZATION.read_text()))


def resources() -> list[dict[str, Any]]:
    """Every resource the kustomization lists (generated ConfigMaps aside)."""
    return [doc for name in kustomization()["resources"] for doc in documents(K8S / name)]


def resource(kind: str, name: str) -> dict[str, Any]:
    [found] = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def settings_literals() -> dict[str, str]:
    """The gourmet-settings ConfigMap, as the pods' environment gets it."""
    [generator] = [
        g for g in kustomization()["configMapGenerator"] if g["name"] == "gourmet-settings"
    ]
    return dict(literal.split("=", 1) for literal in generator["literals"])


def secret_example() -> dict[str, str]:
    [secret] = documents(SECRET_EXAMPLE)
    return dict(secret["stringData"])


def pgbouncer_ini(text: str) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(text)
    return ini


def connect_query(database_entry: str) -> str:
    match = re.search(r"connect_query='([^']*)'", database_entry)
    assert match is not None, f"no connect_query in {database_entry!r}"
    return match.group(1)


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return dict(deployment["spec"]["template"]["spec"])


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    """The container ``name`` of a pod spec."""
    containers: list[dict[str, Any]] = pod["containers"]
    [found] = [c for c in containers if c["name"] == name]
    return found


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def pod_settings(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> Settings:
    """Settings as a gourmet pod reads them: the ConfigMap and the Secret, nothing else."""
    for name in list(os.environ):
        if name.startswith("GOURMET_"):
            monkeypatch.delenv(name)
    for name, value in {**settings_literals(), **secret_example(), **overrides}.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings: no .env


def planned_options() -> dict[str, int]:
    """The `gourmet capacity plan` command quoted in kustomization.yaml, as option -> value."""
    comments = " ".join(
        line.lstrip("# ").rstrip("\\ ")
        for line in KUSTOMIZATION.read_text().splitlines()
        if line.startswith("#")
    )
    match = re.search(r"gourmet capacity plan((?: --[a-z-]+ \d+)+)", comments)
    assert match is not None, "kustomization.yaml does not quote the capacity plan command"
    return {name: int(value) for name, value in re.findall(r"--([a-z-]+) (\d+)", match.group(1))}


def prestop_seconds(lifecycle: dict[str, Any]) -> int:
    """How long the preStop hook holds the pod before SIGTERM."""
    hook = lifecycle["preStop"]
    if "sleep" in hook:  # the sleep action (Kubernetes 1.30+)
        return int(hook["sleep"]["seconds"])
    command = hook["exec"]["command"]
    assert command[0] == "sleep", f"preStop is not a plain sleep: {command}"
    return int(command[1])
