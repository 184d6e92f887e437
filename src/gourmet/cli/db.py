"""``gourmet db``: schema migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from gourmet.cli.context import database_url
from gourmet.config import Settings
from gourmet.db import migrate

app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)
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
