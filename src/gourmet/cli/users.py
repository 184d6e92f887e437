"""``gourmet users``: accounts from the terminal (the first admin, before anyone can sign in)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from gourmet.accounts.schemas import AccountView
from gourmet.cli.context import command_services
from gourmet.problems import Problem

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

    async def write() -> AccountView:
        async with command_services() as services:
            return await services.accounts.create_account(email, password, name, "admin")

    try:
        account = asyncio.run(write())
    except Problem as problem:
        raise typer.BadParameter(problem.detail) from problem
    console.print(
        f"admin account {account.id} created for {account.email}; sign in with POST /api/session"
    )
