"""PgBouncer in transaction mode between Gourmet and PostgreSQL: its configuration, written from
Gourmet's settings, and a local instance (Debian's ``pgbouncer``) for tests, the local cluster
and the benchmarks.

In transaction mode a client connection gets a server connection for one transaction only, so
many processes' pools share a few of PostgreSQL's connections. Three things follow, all handled
here or in ``db/pool.py``: no server-side prepared statements (``prepare_threshold=None``), no
startup options (PgBouncer refuses ``options``; ``connect_query`` sets the same statement, lock
and idle guards on every server connection it opens), and no LISTEN through it (the listener
connects to PostgreSQL directly, ``GOURMET_DATABASE__LISTEN_URL``). A client waits at most
``query_wait_timeout`` for a server connection: a queue in PgBouncer is bounded too.
"""

from __future__ import annotations

import math
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from gourmet.config import Settings
from gourmet.db.pool import server_guards

START_DEADLINE_S = 10.0


@dataclass(frozen=True)
class BouncerConfig:
    upstream: str  # PostgreSQL's URL (any database: clients name theirs)
    port: int
    pool_size: int  # server connections per database and user
    max_client_conn: int = 2000


def render_ini(config: BouncerConfig, settings: Settings, directory: Path) -> str:
    """pgbouncer.ini for ``config``: every database of the upstream, under the same name."""
    upstream = conninfo_to_dict(config.upstream)
    keys = ("host", "port", "user", "password")
    target = " ".join(f"{key}={upstream[key]}" for key in keys if upstream.get(key))
    guards = "; ".join(f"SET {name} = {value}" for name, value in server_guards(settings).items())
    return f"""\
[databases]
* = {target} connect_query='{guards}'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {config.port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {config.pool_size}
reserve_pool_size = 0
max_client_conn = {config.max_client_conn}
query_wait_timeout = {math.ceil(settings.database.pool_timeout_s)}
server_connect_timeout = 3
server_login_retry = 1
server_lifetime = {int(settings.database.pool_max_lifetime_s)}
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
"""


@dataclass
class LocalBouncer:
    """A pgbouncer process of our own, on 127.0.0.1. Its configuration, log and pid file live
    in a directory of its own under /tmp (pgbouncer refuses to run as root; started by root it
    runs as an unprivileged user, who must be able to reach them)."""

    config: BouncerConfig
    directory: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="gourmet-pgbouncer-"))
    )
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        user = conninfo_to_dict(self.config.upstream).get("user", "postgres")
        return f"postgresql://{user}@127.0.0.1:{self.config.port}/{database}"

    def start(self, settings: Settings) -> LocalBouncer:
        executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.directory.mkdir(parents=True, exist_ok=True)
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(render_ini(self.config, settings, self.directory))
        command = [executable, str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root: run as the socket's owner
            user = self._unprivileged_user()
            shutil.chown(self.directory, user)
            command[1:1] = ["-u", user]
        with (self.directory / "pgbouncer.out").open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our own ini
                command, stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_until_serving()
        return self

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM): open client connections are dropped, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None

    def _wait_until_serving(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=1) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    said = "".join(
                        path.read_text()[-2000:]
                        for path in (
                            self.directory / "pgbouncer.out",
                            self.directory / "pgbouncer.log",
                        )
                        if path.exists()
                    )
                    raise RuntimeError(f"pgbouncer did not start: {said}") from None
                time.sleep(0.05)  # polling while pgbouncer binds its port

    def _unprivileged_user(self) -> str:
        host = str(conninfo_to_dict(self.config.upstream).get("host", ""))
        if host.startswith("/"):  # a socket directory only its owner may enter
            return pwd.getpwuid(os.stat(host).st_uid).pw_name
        return "postgres"
