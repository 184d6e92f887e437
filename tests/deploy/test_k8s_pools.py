"""The Kubernetes deployment's database side: replicas and pool sizes are the capacity plan's,
PgBouncer takes every pool (even during a rollout) and is configured, and starts, as Gourmet
configures the local PgBouncer; the pods' settings load and refuse the placeholder secret."""

from __future__ import annotations

import inspect
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from gourmet_tools.cli.capacity import plan_command
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from gourmet.db.pgbouncer import BouncerConfig, render_ini
from gourmet.db.plan import PGBOUNCER_CLIENT_CEILING, Deployment, plan
from tests.deploy.k8s_manifests import (
    K8S,
    PGBOUNCER_INI,
    SECRET_EXAMPLE,
    connect_query,
    container,
    kustomization,
    pgbouncer_ini,
    planned_options,
    pod_settings,
    pod_spec,
    resource,
    secret_example,
    settings_literals,
)
from tests.processes import free_port
from tests.tools import require_tool

# PgBouncer settings that must be what render_ini (the tested local PgBouncer) writes.
BOUNCER_GUARDS = (
    "pool_mode",
    "reserve_pool_size",
    "query_wait_timeout",
    "server_connect_timeout",
    "server_login_retry",
    "server_lifetime",
)
PGBOUNCER_START_S = 10.0

A_SECRET = "kV3-qT9zLm2xW8pRb7YcN4dHs"  # what secrets.token_urlsafe gives: long, varied
# The secrets an operator fills in (the example's placeholders are refused in production).
FILLED_IN = {
    "GOURMET_SECURITY__STAFF_TOKEN": A_SECRET,
    "GOURMET_PAYMENTS__STRIPE_SECRET_KEY": "sk_live_" + "51HxQ2kLmN8pR4tV6wY9zB3cD5fG7hJ0" * 3,
}


# ---------------------------------------------------------------------------------------------
# The capacity plan


def test_replicas_and_pool_sizes_are_the_capacity_plans() -> None:
    literals = settings_literals()
    workers = int(literals["GOURMET_SERVER__WORKERS"])
    max_replicas = resource("HorizontalPodAutoscaler", "gourmet")["spec"]["maxReplicas"]
    bouncer = resource("Deployment", "pgbouncer")["spec"]
    ini = pgbouncer_ini(PGBOUNCER_INI.read_text())["pgbouncer"]

    options = planned_options()
    assert options["workers-per-pod"] == workers
    assert options["max-replicas"] == max_replicas == int(literals["GOURMET_SERVER__REPLICAS"])
    assert options["pgbouncer-replicas"] == bouncer["replicas"]
    # Never two PgBouncers at once (a rolling update would briefly run two server pools).
    assert bouncer["strategy"]["type"] == "Recreate"

    deployment = Deployment(
        max_connections=options["max-connections"],
        superuser_reserved=inspect.signature(plan_command).parameters["superuser_reserved"].default,
        reserved=int(literals["GOURMET_DATABASE__RESERVED_CONNECTIONS"]),
        workers_per_pod=workers,
        max_replicas=max_replicas,
        pgbouncer_replicas=bouncer["replicas"],
    )
    derived = plan(deployment)
    assert derived.fits, derived.problem
    assert literals["GOURMET_DATABASE__POOLER"] == "pgbouncer"
    assert int(literals["GOURMET_DATABASE__POOL_MAX_SIZE"]) == derived.pool_size
    assert int(ini["default_pool_size"]) == derived.pgbouncer_pool_size
    assert int(ini["max_db_connections"]) == derived.pgbouncer_pool_size

    deployed = replace(
        deployment,
        pool_size=int(literals["GOURMET_DATABASE__POOL_MAX_SIZE"]),
        pgbouncer_pool_size=int(ini["default_pool_size"]),
    )
    assert plan(deployed).fits, plan(deployed).problem
    # maxReplicas is the ceiling: one more replica's listeners no longer fit.
    assert not plan(replace(deployed, max_replicas=max_replicas + 1)).fits


def test_pgbouncer_takes_every_pool_even_during_a_rollout() -> None:
    literals = settings_literals()
    surge = resource("Deployment", "gourmet")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    pods = resource("HorizontalPodAutoscaler", "gourmet")["spec"]["maxReplicas"] + surge
    clients = (
        pods
        * int(literals["GOURMET_SERVER__WORKERS"])
        * int(literals["GOURMET_DATABASE__POOL_MAX_SIZE"])
    )
    max_client_conn = int(pgbouncer_ini(PGBOUNCER_INI.read_text())["pgbouncer"]["max_client_conn"])
    assert clients <= max_client_conn <= PGBOUNCER_CLIENT_CEILING


# ---------------------------------------------------------------------------------------------
# Settings, secrets and PgBouncer


def test_the_pods_settings_load_and_refuse_the_placeholder_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert str(SECRET_EXAMPLE.relative_to(K8S)) not in kustomization()["resources"]
    with pytest.raises(ValidationError, match="GOURMET_SECURITY__STAFF_TOKEN"):
        pod_settings(monkeypatch)  # production refuses the example's placeholder
    with pytest.raises(ValidationError, match="placeholder"):  # and Stripe's
        pod_settings(monkeypatch, GOURMET_SECURITY__STAFF_TOKEN=A_SECRET)
    settings = pod_settings(monkeypatch, **FILLED_IN)
    assert settings.environment == "production"
    assert settings.database.pooler == "pgbouncer"
    assert settings.server.host == "0.0.0.0"


def test_the_secret_points_the_pools_at_pgbouncer_and_listen_at_postgresql() -> None:
    secret = secret_example()
    pools = conninfo_to_dict(secret["GOURMET_DATABASE__URL"])
    listen = conninfo_to_dict(secret["GOURMET_DATABASE__LISTEN_URL"])
    service = resource("Service", "pgbouncer")["spec"]
    assert (pools["host"], int(str(pools["port"]))) == (
        "pgbouncer",
        service["ports"][0]["port"],
    )
    ini = pgbouncer_ini(PGBOUNCER_INI.read_text())
    upstream = conninfo_to_dict(ini["databases"][str(pools["dbname"])].split(" connect_query")[0])
    assert (listen["host"], listen["port"], listen["dbname"]) == (
        upstream["host"],
        upstream["port"],
        upstream["dbname"],
    )
    # Every key the pods take from the Secret is in the example.
    bouncer = pod_spec(resource("Deployment", "pgbouncer"))
    [users] = [v["secret"] for v in bouncer["volumes"] if "secret" in v]
    assert users["secretName"] == "gourmet-secrets"
    assert {item["key"] for item in users["items"]} <= set(secret)


def test_pgbouncer_sets_the_guards_gourmet_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through PgBouncer the statement, lock and idle timeouts reach PostgreSQL only by
    connect_query: the same ones, and the same queue bound, as the tested local PgBouncer."""
    settings = pod_settings(monkeypatch, **FILLED_IN)
    ini = pgbouncer_ini(PGBOUNCER_INI.read_text())
    assert settings.database.listen_url is not None
    config = BouncerConfig(
        settings.database.listen_url, 6432, int(ini["pgbouncer"]["default_pool_size"])
    )
    expected = pgbouncer_ini(render_ini(config, settings, Path("/run/pgbouncer")))
    [entry] = ini["databases"].values()
    assert connect_query(entry) == connect_query(expected["databases"]["*"])
    for key in BOUNCER_GUARDS:
        assert ini["pgbouncer"][key] == expected["pgbouncer"][key], key
    assert ini["pgbouncer"]["unix_socket_dir"] == ""  # the root filesystem is read-only

    bouncer = pod_spec(resource("Deployment", "pgbouncer"))
    [port] = container(bouncer, "pgbouncer")["ports"]
    assert int(ini["pgbouncer"]["listen_port"]) == port["containerPort"]
    mounts = {m["name"]: m["mountPath"] for m in container(bouncer, "pgbouncer")["volumeMounts"]}
    [users] = [v for v in bouncer["volumes"] if "secret" in v]
    assert (
        ini["pgbouncer"]["auth_file"]
        == f"{mounts[users['name']]}/{users['secret']['items'][0]['path']}"
    )


def test_pgbouncer_starts_on_the_configuration() -> None:
    """Debian's pgbouncer on the ini (only the address, port and user list moved): an unknown
    or misspelt parameter would stop it, as it would stop the pod."""
    executable = require_tool("pgbouncer", "pgbouncer")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gourmet-k8s-pgbouncer-") as folder:
        directory = Path(folder)
        directory.chmod(0o755)  # pgbouncer refuses root: the user it runs as reads these
        users = directory / "userlist.txt"
        users.write_text('"gourmet" "not-a-secret"\n')
        text = PGBOUNCER_INI.read_text()
        for key, value in (
            ("listen_addr", "127.0.0.1"),
            ("listen_port", port),
            ("auth_file", users),
        ):
            text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
            assert count == 1, key
        ini = directory / "pgbouncer.ini"
        ini.write_text(text)
        for path in (users, ini):
            path.chmod(0o644)
        command = [executable, str(ini)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]
        log = directory / "pgbouncer.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + PGBOUNCER_START_S
            while "process up" not in log.read_text():
                assert process.poll() is None, f"pgbouncer stopped:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"pgbouncer did not start:\n{log.read_text()}"
                time.sleep(0.05)  # polling its log while it starts
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        said = log.read_text()
    complaints = [line for line in said.splitlines() if re.search(r"WARNING|ERROR|FATAL", line)]
    assert complaints == [], said
