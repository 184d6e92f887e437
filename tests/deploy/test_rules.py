"""The monitoring deployment: alert rules and their unit tests, Alertmanager routing, the Grafana
dashboard, the runbooks, and that every metric they name is one the running app exports.

promtool (Debian package ``prometheus``) and amtool (``prometheus-alertmanager``) are driven for
real. Where one is missing the test is skipped with the reason; with ``CI=true`` it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import FixtureMenu
from tests.deploy.test_promql_names import all_selectors
from tests.ordering.helpers import checkout_body

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
RULE_TESTS = (PROMETHEUS_DIR / "rules_test.yml", PROMETHEUS_DIR / "rules_test_3d.yml")
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "gourmet.json"
RUNBOOKS = ROOT / "docs" / "runbooks"

DEBIAN_PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}
SEVERITIES = {"page", "ticket", "warning"}
RECEIVERS = {"page": "pager", "ticket": "ticket", "warning": "chat"}
# Written by Prometheus itself (scrape health, alert state), never by the app.
PROMETHEUS_SERIES = {"up", "ALERTS"}
# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = {"job", "instance"}
# What a family of each type exposes: a counter ``x`` as ``x_total``, a histogram as
# ``x_bucket``/``x_count``/``x_sum``, a gauge under its own name.
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
    "gauge": ("",),
}
# Stand-ins for Grafana's variables, so a dashboard query is plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$instance": ".*"}


# ---------------------------------------------------------------------------------------------
# Tools


def tool(name: str) -> str:
    """The path of a system tool; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (Debian package {DEBIAN_PACKAGES[name]})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must install it")
        pytest.skip(reason)
    return path


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    """Run a command; fail the test with its whole output when it exits non-zero."""
    command = [str(arg) for arg in args]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=110, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{output}"
    return output


# ---------------------------------------------------------------------------------------------
# The files, parsed


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules() -> Iterator[dict[str, Any]]:
    for group in load_yaml(RULES)["groups"]:
        yield from group["rules"]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboard_expressions() -> list[str]:
    """Every PromQL expression of the dashboard (panel targets and annotation queries)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(DASHBOARD.read_text()))
    return found


def without_grafana_variables(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


# ---------------------------------------------------------------------------------------------
# promtool and amtool


def test_rules_pass_promtool_check() -> None:
    output = run(tool("promtool"), "check", "rules", RULES)
    assert f"SUCCESS: {len(list(rules()))} rules found" in output


def test_prometheus_config_is_valid() -> None:
    output = run(tool("promtool"), "check", "config", PROMETHEUS_CONFIG)
    assert "is valid prometheus config file syntax" in output
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["rule_files"] == [RULES.name]
    [gourmet] = [job for job in config["scrape_configs"] if job["job_name"] == "gourmet"]
    assert gourmet["static_configs"][0]["targets"] == ["127.0.0.1:8000"]
    assert gourmet.get("metrics_path", "/metrics") == "/metrics"


@pytest.mark.parametrize("tests_file", RULE_TESTS, ids=lambda path: path.name)
def test_rule_unit_tests_pass(tests_file: Path) -> None:
    output = run(tool("promtool"), "test", "rules", tests_file.name, cwd=PROMETHEUS_DIR)
    assert "SUCCESS" in output


def test_alertmanager_config_is_valid() -> None:
    output = run(tool("amtool"), "check-config", ALERTMANAGER_CONFIG)
    assert "SUCCESS" in output


@pytest.mark.parametrize("alertname", sorted(alerts()))
def test_each_alert_reaches_the_receiver_of_its_severity(alertname: str) -> None:
    rule = alerts()[alertname]
    severity = rule["labels"]["severity"]
    run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={RECEIVERS[severity]}",
        f"alertname={alertname}",
        f"severity={severity}",
        "job=gourmet",
    )


def test_database_down_inhibits_the_alerts_it_causes() -> None:
    config = load_yaml(ALERTMANAGER_CONFIG)
    [rule] = [
        rule
        for rule in config["inhibit_rules"]
        if rule.get("source_matchers") == ['alertname="DatabaseDown"']
    ]
    [target] = rule["target_matchers"]
    pattern = re.fullmatch(r'alertname=~"(.*)"', target)
    assert pattern is not None, target
    consequences = {
        name
        for name in alerts()
        if name.startswith(("DbPool", "CheckoutAvailability", "CheckoutLatency", "Requests"))
    }
    assert consequences >= {"DbPoolExhausted", "DbPoolSaturated", "CheckoutAvailabilityBurnFast"}
    for name in consequences:
        assert re.fullmatch(pattern.group(1), name), f"DatabaseDown does not inhibit {name}"
    for name in ("DatabaseDown", "GourmetDown", "GourmetMetricsAbsent"):
        assert not re.fullmatch(pattern.group(1), name)
    assert rule["equal"] == ["job"]


# ---------------------------------------------------------------------------------------------
# Every alert: labelled, documented, tested both ways


def test_every_alert_has_severity_annotations_and_a_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), name
        url = annotations["runbook_url"]
        assert re.fullmatch(r"docs/runbooks/[a-z0-9-]+\.md", url), f"{name}: {url}"
        assert (ROOT / url).is_file(), f"{name}: {url} does not exist"
        assert Path(url).name in index, f"{url} is not listed in docs/runbooks/README.md"
        assert f"`{name}`" in (ROOT / url).read_text(), f"{url} does not name {name}"


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for tests_file in RULE_TESTS:
        suite = load_yaml(tests_file)
        assert suite["rule_files"] == [RULES.name]
        for case in suite["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    defined = set(alerts())
    assert firing | silent <= defined, f"tests name unknown alerts: {(firing | silent) - defined}"
    assert defined - firing == set(), "alerts never tested firing"
    assert defined - silent == set(), "alerts never tested not firing"


def test_runbooks_say_how_to_confirm_act_and_tell_customers() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for runbook in sorted(RUNBOOKS.glob("*.md")):
        if runbook.name == "README.md":
            continue
        text = runbook.read_text()
        for heading in ("## What it means", "## Confirm in one minute", "## What to do"):
            assert heading in text, f"{runbook.name} lacks {heading!r}"
        assert "## Tell customers" in text, runbook.name
        assert "gourmet status post" in text, runbook.name
        assert runbook.name in index, f"{runbook.name} is not listed in the index"
    pool = (RUNBOOKS / "connection-pool-exhaustion.md").read_text()
    assert "postmortem" in pool.lower()
    assert "DDoS" in pool


# ---------------------------------------------------------------------------------------------
# The dashboard


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    exprs = dashboard_expressions()
    assert len(exprs) >= 20
    as_rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": without_grafana_variables(expr)}
                    for i, expr in enumerate(exprs)
                ],
            }
        ]
    }
    check = tmp_path / "dashboard_rules.yml"
    check.write_text(yaml.safe_dump(as_rules))
    run(tool("promtool"), "check", "rules", check)


def test_dashboard_shows_the_outage_on_one_screen() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41
    panels = {panel["title"]: panel for panel in dashboard["panels"]}
    for title in (
        "Request rate by route",
        "Latency p50 / p99 by route",
        "5xx and shed 503 rate",
        "Pool connections: in use / idle / max / waiting",
        "Pool acquire wait p99 and timeouts",
        "Admission limit vs in flight",
        "Shed by priority",
        "Orders per minute",
        "Database up",
        "Error budget burn rate (checkout)",
        "Database up and menu cache age",
    ):
        assert title in panels, title
    # The pool and the symptoms fit in the first screen (about 26 grid rows at 1080p).
    for title in ("Pool connections: in use / idle / max / waiting", "5xx and shed 503 rate"):
        grid = panels[title]["gridPos"]
        assert grid["y"] + grid["h"] <= 26, title
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_recording_rules_used_are_defined() -> None:
    used = all_selectors(
        [rule["expr"] for rule in rules()]
        + [without_grafana_variables(e) for e in dashboard_expressions()]
    )
    recorded = recorded_names()
    missing = {name for name in used if ":" in name} - recorded
    assert missing == set(), f"recording rules used but not defined: {missing}"


# ---------------------------------------------------------------------------------------------
# Against the live app


@pytest.mark.anyio
async def test_every_metric_named_is_exported_by_the_app(
    client: AsyncTestClient[Litestar], menu: FixtureMenu
) -> None:
    # Requests that create the labelled series the rules and the dashboard select on.
    assert (await client.get("/api/menu")).status_code == 200
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201
    assert (await client.post("/api/orders", json={"lines": "nope"})).status_code in {400, 422}
    assert (await client.get("/api/orders/nope")).status_code == 404
    page = await client.get("/metrics")
    assert page.status_code == 200

    exposed: dict[str, dict[str, set[str]]] = {}  # name -> label -> values seen
    for family in text_string_to_metric_families(page.text):
        for suffix in SUFFIXES.get(family.type, ("",)):
            exposed.setdefault(family.name + suffix, {})
        for sample in family.samples:
            labels = exposed.setdefault(sample.name, {})
            for label, value in sample.labels.items():
                labels.setdefault(label, set()).add(value)

    used = all_selectors(
        [rule["expr"] for rule in rules()]
        + [without_grafana_variables(e) for e in dashboard_expressions()]
    )
    app_names = {name for name in used if ":" not in name and name not in PROMETHEUS_SERIES}
    assert {"gourmet_http_requests_total", "gourmet_db_pool_waiting"} <= app_names

    missing = sorted(name for name in app_names if name not in exposed)
    assert missing == [], f"named in rules or dashboard but not on /metrics: {missing}"

    problems = []
    for name in sorted(app_names):
        seen = exposed[name]
        if not seen:
            continue  # a labelled family with no series yet (nothing shed): names only
        for label in used[name].labels - TARGET_LABELS:
            if label not in seen:
                problems.append(f"{name} has no label {label!r} (has {sorted(seen)})")
        for label, values in used[name].exact.items():
            if label in TARGET_LABELS or label not in seen:
                continue
            for value in values - seen[label]:
                problems.append(f'{name}{{{label}="{value}"}}: not among {sorted(seen[label])}')
    assert problems == [], "\n".join(problems)
