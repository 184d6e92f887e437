"""The embedded PostgreSQL that makes ``make run`` and ``make test`` need no installed database.

pgserver ships a real PostgreSQL in its wheel. Run as root it starts the server as a system user
``pgserver``, so ``pg_ctl`` run as root refuses to stop it; we stop it by signalling the postmaster,
whose pid is the first line of ``postmaster.pid``.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A running embedded cluster: where its data lives and how to reach its maintenance db."""

    pgdata: Path
    admin_url: str

    def url_for(self, database: str) -> str:
        scheme_and_auth, _, rest = self.admin_url.partition("@/")
        _, _, query = rest.partition("?")
        return f"{scheme_and_auth}@/{database}?{query}"

    @property
    def postmaster_pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    @property
    def running(self) -> bool:
        pid = self.postmaster_pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, owned by the pgserver user
            return True
        return True

    def stop(self) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, then wait for the postmaster."""
        pid = self.postmaster_pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise TimeoutError(f"embedded PostgreSQL (pid {pid}) did not stop within {STOP_TIMEOUT_S}s")


def start_embedded(pgdata: Path) -> EmbeddedPostgres:
    """Start (or find running) the cluster in ``pgdata``; it keeps running until ``stop()``."""
    from pgserver.postgres_server import get_server  # late: only the embedded mode needs it

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None)
    embedded = EmbeddedPostgres(pgdata=pgdata, admin_url=server.get_uri())
    if not embedded.running:
        # pgserver caches one handle per data directory per process and does not notice a
        # postmaster stopped under it (by us, or by an operator); start it again explicitly.
        server.ensure_postgres_running()
    return embedded


def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` when it does not exist yet."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def resolve_database_url(database_url: str | None, data_dir: Path, database: str) -> str:
    """The configured URL, or the embedded cluster under ``data_dir`` (started if needed)."""
    if database_url:
        return database_url
    embedded = start_embedded(data_dir / "pgdata")
    ensure_database(embedded.admin_url, database)
    return embedded.url_for(database)
