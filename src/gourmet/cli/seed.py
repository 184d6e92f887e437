"""``gourmet seed``: demo data."""

from __future__ import annotations

import asyncio

import psycopg
import typer
from psycopg.rows import dict_row
from rich.console import Console

from gourmet.cli.context import database_url
from gourmet.config import Settings
from gourmet.demo import SeedResult, load_demo

app = typer.Typer(help="Load demo data.", no_args_is_help=True)
console = Console()


async def seed_demo(url: str, only_if_empty: bool) -> SeedResult:
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, row_factory=dict_row
    ) as conn:
        return await load_demo(conn, only_if_empty=only_if_empty)


@app.command()
def demo(
    if_empty: bool = typer.Option(
        True, "--if-empty/--always", help="Only load when the menu is empty (the default)."
    ),
) -> None:
    """Load the Gourmet Delights demo menu (40 items), opening hours, slots and delivery zones."""
    result = asyncio.run(seed_demo(database_url(Settings()), if_empty))
    if result.loaded:
        console.print(f"loaded {result.items} items in {result.categories} categories")
    else:
        console.print("menu already has items; nothing loaded (use --always to add the demo)")
