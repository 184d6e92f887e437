"""``gourmet users``: accounts from the terminal (the first admin, before anyone can sign in)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from gourmet.cli.context import connect

app = typer.Typer(help="Accounts: create the first admin.", no_args_is_help=True)
console = Console()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email; they sign in with it.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Prompted for (never put it on the command line, where history keeps it).",
        ),
    ],
    name: Annotated[str, typer.Option(help="The admin's name.")] = "",
) -> None:
    """Create an admin account (who can then create staff accounts: POST /api/admin/accounts)."""
    # Imported here: `gourmet serve` must not import the app's modules (and their metrics).
    from gourmet.accounts import passwords
    from gourmet.accounts.service import insert_account
    from gourmet.problems import Problem

    try:
        address = passwords.normalize_email(email)
        passwords.check_strength(password)
    except Problem as problem:
        raise typer.BadParameter(problem.detail) from problem
    password_hash = passwords.hash_password(password)

    async def write() -> int:
        async with connect() as conn, conn.transaction():
            account = await insert_account(
                conn, email=address, password_hash=password_hash, role="admin", name=name
            )
            return account.id

    try:
        number = asyncio.run(write())
    except Problem as problem:
        raise typer.BadParameter(problem.detail) from problem
    console.print(f"admin account {number} created for {address}; sign in with POST /api/session")
