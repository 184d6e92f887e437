"""``gourmet db``: schema migrations, backups and restores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console

from gourmet.cli.context import database_url
from gourmet.config import Settings
from gourmet.db import backup as backups
from gourmet.db import migrate

app = typer.Typer(
    help="Database: apply and inspect migrations, back up and restore.", no_args_is_help=True
)
console = Console()


@app.command()
def upgrade() -> None:
    """Apply every pending migration (each in its own transaction)."""
    applied = migrate.upgrade(database_url(Settings()))
    if applied:
        console.print(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        console.print("schema is up to date")


@app.command()
def status() -> None:
    """List applied and pending migrations; exit 1 when any is pending."""
    result = migrate.status(database_url(Settings()))
    for name in result.applied:
        console.print(f"[green]applied[/green]  {name}")
    for name in result.pending:
        console.print(f"[yellow]pending[/yellow]  {name}")
    if result.pending:
        raise typer.Exit(code=1)


def _orders(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    return int(row[0]) if row else 0


@app.command()
def backup(
    path: Annotated[
        Path | None, typer.Argument(help="where to write it (default: var/backups/<time>.dump)")
    ] = None,
) -> None:
    """Dump the whole database (pg_dump, custom format) while Gourmet keeps serving."""
    settings = Settings()
    url = database_url(settings)
    if path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = settings.data_dir / "backups" / f"gourmet-{stamp}.dump"
    try:
        backups.backup(url, path)
    except backups.BackupError as exc:
        console.print(f"[red]backup failed:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    size_kib = path.stat().st_size / 1024
    console.print(f"backed up {_orders(url)} orders to {path} ({size_kib:.0f} KiB)")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="a file written by gourmet db backup")],
    yes: Annotated[bool, typer.Option("--yes", help="really replace the database")] = False,
) -> None:
    """Replace the database with a backup, in one transaction (stop Gourmet first)."""
    url = database_url(Settings())
    if not yes:
        console.print(
            f"[yellow]This replaces every table of the database with {path}.[/yellow] "
            "Stop Gourmet first, then run again with --yes."
        )
        raise typer.Exit(code=2)
    try:
        backups.restore(url, path)
    except backups.BackupError as exc:
        console.print(f"[red]restore failed, nothing was changed:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"restored {path}: {_orders(url)} orders")
