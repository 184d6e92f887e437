"""``gourmet cluster up``: Gourmet as it is deployed, on one machine. Several ``gourmet serve``
processes behind HAProxy, sharing PostgreSQL through PgBouncer in transaction mode.

HAProxy asks each server's ``/readyz`` every half second and stops sending to one that says no
(a server draining after SIGTERM says no at once and keeps serving for GOURMET_SERVER__DRAIN_S). A
request whose connection fails, or whose server dies before answering, is tried once more on
another server: safe for reads, and for checkouts, which carry an ``Idempotency-Key``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
from psycopg.conninfo import conninfo_to_dict

from gourmet.cli.serve import close_database, console, open_database, start_sandbox, stop_sandbox
from gourmet.config import Settings
from gourmet.db.pgbouncer import BouncerConfig, LocalBouncer
from gourmet.db.plan import Deployment, plan

app = typer.Typer(help="A local cluster: servers behind HAProxy, PgBouncer, PostgreSQL.")

START_DEADLINE_S = 30.0
HEALTH_CHECK_MS = 500
# PostgreSQL connections PgBouncer opens on this machine: the plan allows more, two cores use
# far fewer.
LOCAL_SERVER_CONNECTIONS = 10


def haproxy_config(port: int, servers: dict[str, int], directory: Path, maxconn: int) -> str:
    """HAProxy in front of the servers. ``maxconn`` is what the servers accept in all: a lower
    cap would let customers held in the waiting rooms take every connection HAProxy has, and
    lock out the menu and the tracking pages that the servers still have room for."""
    backends = "\n".join(
        f"    server {name} 127.0.0.1:{server_port} check" for name, server_port in servers.items()
    )
    return f"""\
global
    maxconn {maxconn}
    stats socket {directory / "haproxy.sock"} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    option http-server-close
    option forwardfor
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend gourmet
    bind 127.0.0.1:{port}
    default_backend servers

backend servers
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter {HEALTH_CHECK_MS}ms fastinter {HEALTH_CHECK_MS}ms fall 1 rise 2
{backends}
"""


@dataclass
class Cluster:
    """The processes of a local cluster; each server can be stopped, killed and started again."""

    settings: Settings
    database_url: str  # PostgreSQL itself
    servers: int = 2
    workers: int = 1
    directory: Path = Path("var/cluster")
    bouncer: LocalBouncer | None = None
    server_ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.server.port}"

    def up(self) -> Cluster:
        self.directory = self.directory.resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        budget = plan(
            Deployment(
                max_connections=self._max_connections(),
                superuser_reserved=3,
                reserved=self.settings.database.reserved_connections,
                workers_per_pod=self.workers,
                max_replicas=self.servers,
                pgbouncer_replicas=1,
            )
        )
        if budget.problem is not None:
            raise typer.BadParameter(budget.problem)
        self.bouncer = LocalBouncer(
            BouncerConfig(
                self.database_url,
                port=self.settings.server.port + 100,
                pool_size=min(budget.pgbouncer_pool_size, LOCAL_SERVER_CONNECTIONS),
            )
        ).start(self.settings)
        self.server_ports = {
            f"gourmet-{n}": self.settings.server.port + n for n in range(1, self.servers + 1)
        }
        for name in self.server_ports:
            self.start_server(name)
        config = self.directory / "haproxy.cfg"
        maxconn = len(self.server_ports) * self.workers * self.settings.server.max_connections
        config.write_text(
            haproxy_config(self.settings.server.port, self.server_ports, self.directory, maxconn)
        )
        self._spawn("haproxy", [_haproxy(), "-db", "-f", str(config)])
        self._wait_ready(self.url + "/readyz", "haproxy")
        return self

    def start_server(self, name: str) -> None:
        assert self.bouncer is not None
        database = str(conninfo_to_dict(self.database_url)["dbname"])
        env = {
            **os.environ,
            "GOURMET_DATABASE__URL": self.bouncer.url(database),
            "GOURMET_DATABASE__POOLER": "pgbouncer",
            "GOURMET_DATABASE__LISTEN_URL": self.database_url,
            "GOURMET_SERVER__PORT": str(self.server_ports[name]),
            "GOURMET_SERVER__WORKERS": str(self.workers),
            "GOURMET_SERVER__REPLICAS": str(self.servers),
            "GOURMET_DATA_DIR": str(self.directory / name),
            "GOURMET_SECURITY__STAFF_TOKEN": self.settings.resolved_staff_token(),
            "GOURMET_SERVER__DRAIN_S": str(self.settings.server.drain_s),
            "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": str(
                self.settings.security.checkouts_per_client
            ),
            # HAProxy, on this machine, says who the client is (X-Forwarded-For).
            "GOURMET_SERVER__TRUSTED_PROXIES": '["127.0.0.1"]',
            "GOURMET_SERVER__SHUTDOWN_TIMEOUT_S": str(self.settings.server.shutdown_timeout_s),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each server its own
        gourmet = str(Path(sys.executable).with_name("gourmet"))
        self._spawn(name, [gourmet, "serve"], env)
        self._wait_ready(f"http://127.0.0.1:{self.server_ports[name]}/readyz", name)

    def stop_server(self, name: str, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: drain, then stop; SIGKILL: a crash of the whole server, its workers too
        (as when a machine or a container dies)."""
        process = self.processes.pop(name)
        if how == signal.SIGKILL:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.send_signal(how)
        process.wait(
            timeout=self.settings.server.drain_s + self.settings.server.shutdown_timeout_s + 10
        )

    def supervise(self) -> None:
        """Start again any server that stopped, until HAProxy itself does."""
        while self.processes["haproxy"].poll() is None:
            for name in self.server_ports:
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    console.print(f"{name} exited ({process.returncode}): starting it again")
                    self.start_server(name)
                    console.print(f"{name} is back: pid {self.processes[name].pid}")
            time.sleep(0.5)  # how often the supervisor looks

    def down(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            if process.poll() is None:
                # Everything stops at once: no drain for the servers (SIGINT), a hard stop for
                # HAProxy (which ignores SIGINT in the foreground).
                process.send_signal(signal.SIGTERM if name == "haproxy" else signal.SIGINT)
                process.wait(timeout=20)
        if self.bouncer is not None:
            self.bouncer.stop()

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with (self.directory / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our own commands
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def _wait_ready(self, url: str, name: str) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            process = self.processes[name]
            if process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} did not become ready:\n{log}")
            time.sleep(0.1)  # polling while it starts

    def _max_connections(self) -> int:
        import psycopg  # late: only the plan needs it

        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT current_setting('max_connections')::int").fetchone()
        assert row is not None
        return int(row[0])


def _stop(*_: object) -> None:
    raise KeyboardInterrupt


def _haproxy() -> str:
    path = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if path is None:
        raise typer.BadParameter("haproxy is not installed (Debian package 'haproxy')")
    return path


@app.command("up")
def up(
    servers: Annotated[int, typer.Option(help="gourmet serve processes behind HAProxy")] = 2,
    workers: Annotated[int, typer.Option(help="workers of each server")] = 1,
) -> None:
    """Start PostgreSQL (embedded unless GOURMET_DATABASE__URL), PgBouncer, the servers and
    HAProxy on GOURMET_SERVER__PORT; Ctrl-C stops them all."""
    settings = Settings()
    signal.signal(signal.SIGTERM, _stop)  # as Ctrl-C: take every process down with us
    url, embedded = open_database(settings)
    sandbox = start_sandbox(settings)
    cluster = Cluster(settings, url, servers=servers, workers=workers)
    try:
        cluster.up()
        assert cluster.bouncer is not None
        console.print(
            f"\n[bold]Gourmet cluster is up[/bold]\n"
            f"  order online  {cluster.url}/   (HAProxy, {servers} servers x {workers} workers)\n"
            + "".join(
                f"  {name}     http://127.0.0.1:{port}/  pid {cluster.processes[name].pid}\n"
                for name, port in cluster.server_ports.items()
            )
            + f"  PgBouncer     {cluster.bouncer.url(settings.database.name)}\n"
            f"  PostgreSQL    {url}\n"
            f"  logs          {cluster.directory}/\n"
            f"Try: kill -9 <a server's pid>, or kill -TERM to drain it: it is started again, as"
            f" an orchestrator would. Ctrl-C stops all.\n"
        )
        cluster.supervise()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.down()
        stop_sandbox(sandbox)
        close_database(embedded)
