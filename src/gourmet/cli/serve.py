"""``gourmet serve`` and ``gourmet run`` (everything ``make run`` needs, in one process tree)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from rich.console import Console

from gourmet.cli.seed import seed_demo
from gourmet.cli.server import PORT_HINT, GourmetServer
from gourmet.config import SANDBOX_PAYMENTS_URL, Settings
from gourmet.db import migrate
from gourmet.db.embedded import EmbeddedPostgres, ensure_database, start_embedded
from gourmet.listener import PortInUseError, listen
from gourmet.observability.health import DRAIN_SIGNAL, READY_DIR_VARIABLE, REPLACE_SIGNAL

console = Console()
MAIL_SINK_PORT = 8025
OPEN_FILES_BESIDE_CONNECTIONS = 256  # the pool, the listener, logs, metrics files
SANDBOX_HINT = " (sandbox: card_token tok_visa approves, tok_decline declines)"


def _granian(settings: Settings) -> GourmetServer:
    # Workers start as fresh interpreters (spawn), not as forks of this process: each imports the
    # app itself, after the metrics directory is chosen, and inherits no pool, thread or lock.
    multiprocessing.set_start_method("spawn", force=True)
    # Until a worker's app installs its handlers (lifespan), these signals must not kill it.
    for notice in (DRAIN_SIGNAL, REPLACE_SIGNAL):
        signal.signal(notice, signal.SIG_IGN)

    ready_dir = (settings.data_dir / "ready").resolve()
    ready_dir.mkdir(parents=True, exist_ok=True)
    os.environ[READY_DIR_VARIABLE] = str(ready_dir)
    return GourmetServer(
        settings,
        target="gourmet.worker:create_worker_app",
        factory=True,
        address=settings.server.host,
        port=settings.server.port,
        interface=Interfaces.ASGI,
        workers=settings.server.workers,
        backlog=settings.server.backlog,
        backpressure=settings.server.max_connections,
        http1_settings=HTTP1Settings(
            header_read_timeout=round(settings.server.header_read_timeout_s * 1000)
        ),
        # After the drain: stop accepting, let in-flight requests finish, stop the workers.
        workers_kill_timeout=int(settings.server.shutdown_timeout_s),
        # A worker that dies (killed, out of memory) is replaced; by default granian would
        # stop the whole server, every other worker with it.
        respawn_failed_workers=True,
        # Reloads hand over worker by worker (cli/server.py); a nonzero interval marks them.
        respawn_interval=max(settings.server.drain_s, 0.1),
        websockets=False,
    )


def _prepare_metrics_dir(settings: Settings) -> None:
    """Several workers share their metrics through files (prometheus_client multiprocess mode);
    the directory must be set before the workers (spawned, see _granian) import the metrics, and
    start empty."""
    if settings.server.workers < 2 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = (settings.data_dir / "prometheus").resolve()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def serve() -> None:
    """Serve the app with granian (settings from GOURMET_* variables; no migrations, no seeding)."""
    settings = Settings()
    settings.resolved_staff_token()  # create the development token once, before workers start
    _serve(settings)


def _serve(settings: Settings) -> None:
    _prepare_metrics_dir(settings)
    _allow_open_files(settings)
    try:
        _granian(settings).serve()
    except PortInUseError as exc:
        _refuse(exc)


def _refuse(exc: PortInUseError) -> None:
    console.print(f"[red]{exc}[/red]")
    raise SystemExit(1) from exc


def _check_port_free(settings: Settings) -> None:
    """Refuse before starting anything (the database, the sandbox) on a port already served;
    the server's own bind refuses it again, should another take the port meanwhile."""
    try:
        listen(
            settings.server.host,
            settings.server.port,
            settings.server.backlog,
            share=settings.server.share_port,
            hint=PORT_HINT,
        ).close()
    except PortInUseError as exc:
        _refuse(exc)


def _allow_open_files(settings: Settings) -> None:
    """Let each worker hold its connection cap open (customers held in line among them): the soft
    limit on open files is often 1024, well under GOURMET_SERVER__MAX_CONNECTIONS, and a worker at
    the limit stops accepting connections. Raised up to the hard limit (inherited by the workers);
    past it, the operator is told what to raise."""
    wanted = settings.server.max_connections + OPEN_FILES_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        if ceiling < wanted:
            console.print(
                f"[yellow]open files are limited to {ceiling} per process, below the"
                f" {wanted} that GOURMET_SERVER__MAX_CONNECTIONS"
                f" ({settings.server.max_connections}) needs: raise the hard limit (ulimit -Hn,"
                " systemd LimitNOFILE) or lower"
                " GOURMET_SERVER__MAX_CONNECTIONS and GOURMET_ADMISSION__WAITING_ROOM_SIZE[/yellow]"
            )


def start_sandbox(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Start the sandbox card provider when payments point at its default local address."""
    if settings.payments.url != SANDBOX_PAYMENTS_URL:
        return None
    port = SANDBOX_PAYMENTS_URL.rpartition(":")[2]
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "gourmet.payments.sandbox", "--port", port],
        stdout=subprocess.DEVNULL,
    )


def start_mail_sink(settings: Settings) -> subprocess.Popen[bytes] | None:
    """With no SMTP server configured, start the local sink (``gourmet.notify.sink``) and send
    customers' emails there, and their texts to the SMS sandbox: a local run shows every
    message a customer would get, and delivers none."""
    if settings.notifications.smtp_url is not None:
        return None
    os.environ["GOURMET_NOTIFICATIONS__SMTP_URL"] = f"smtp://127.0.0.1:{MAIL_SINK_PORT}"
    os.environ.setdefault("GOURMET_NOTIFICATIONS__SMS", "sandbox")
    folder = settings.data_dir / "mail"
    command = [sys.executable, "-m", "gourmet.notify.sink", "--port", str(MAIL_SINK_PORT)]
    # Its output goes to the terminal: a line for each mail a customer would have received.
    return subprocess.Popen([*command, "--dir", str(folder)])  # noqa: S603 - our own module


def open_database(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """The database to serve from, migrated and with the demo menu when empty: PostgreSQL at
    GOURMET_DATABASE__URL, or the embedded one (started here; the caller stops it)."""
    embedded = None
    if settings.database.url:
        url = settings.database.url
    else:
        embedded = start_embedded(settings.data_dir / "pgdata")
        ensure_database(embedded.admin_url, settings.database.name)
        url = embedded.url_for(settings.database.name)
        os.environ["GOURMET_DATABASE__URL"] = url  # workers connect without starting anything
    applied = migrate.upgrade(url)
    console.print(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
    seeded = asyncio.run(seed_demo(url, only_if_empty=True))
    if seeded.loaded:
        console.print(f"demo menu: loaded {seeded.items} items")
    return url, embedded


def close_database(embedded: EmbeddedPostgres | None) -> None:
    if embedded is not None:
        embedded.stop()
        console.print("embedded PostgreSQL stopped; data kept in " + str(embedded.pgdata))


def run() -> None:
    """Start the embedded PostgreSQL (unless GOURMET_DATABASE__URL is set), migrate, load the demo
    menu when empty, print the URLs and serve. Ctrl-C stops the server and the embedded database."""
    settings = Settings()
    _check_port_free(settings)
    url, embedded = open_database(settings)
    sandbox = start_sandbox(settings)
    sink = start_mail_sink(settings)
    settings = Settings()  # with the sink's address, if it was started
    try:
        token = settings.resolved_staff_token()
        base = f"http://{settings.server.host}:{settings.server.port}"
        mail_note = (
            f" (local sink: each mail kept in {settings.data_dir / 'mail'}/)" if sink else ""
        )
        sms_note = (
            f" ({settings.data_dir / 'sms.jsonl'})"
            if settings.notifications.sms == "sandbox"
            else ""
        )
        console.print(
            f"\n[bold]Gourmet is starting[/bold]\n"
            f"  order online  {base}/\n"
            f"  kitchen board {base}/kitchen   manager {base}/manage   ops {base}/ops\n"
            f"  sign in       {base}/ops/login with the staff token {token}\n"
            f"                (or create an admin: gourmet users create-admin --email you@x.org)\n"
            f"  status page   {base}/status\n"
            f"  menu (JSON)   {base}/api/menu\n"
            f"  time slots    {base}/api/slots?fulfilment=pickup\n"
            f"  staff orders  {base}/api/staff/orders  (Authorization: Bearer {token})\n"
            f"  API document  {base}/api/schema/openapi.json\n"
            f"  health        {base}/healthz  {base}/readyz  metrics {base}/metrics\n"
            f"  card payments {settings.payments.url or 'off'}{SANDBOX_HINT if sandbox else ''}\n"
            f"  emails        {settings.notifications.smtp_url or 'off'}{mail_note}\n"
            f"  text messages {settings.notifications.sms}{sms_note}\n"
            f"  database      {url}\n"
            f"Ctrl-C stops the server{' and the embedded database' if embedded else ''}.\n"
        )
        _serve(settings)
    except KeyboardInterrupt:
        pass
    finally:
        stop_sandbox(sandbox)
        stop_sandbox(sink)
        close_database(embedded)


def stop_sandbox(sandbox: subprocess.Popen[bytes] | None) -> None:
    if sandbox is not None:
        sandbox.terminate()
        sandbox.wait(timeout=10)
