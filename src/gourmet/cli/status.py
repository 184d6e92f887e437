"""``gourmet status``: tell customers what is going on, from the terminal."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
import psycopg
import typer
from rich.console import Console

from gourmet.cli.context import connect

app = typer.Typer(help="The public status page: post and list incidents.", no_args_is_help=True)
console = Console()
_RELATIVE = re.compile(r"^(\d+)\s*([mh])$")


def parse_eta(value: str | None, now: datetime | None = None) -> datetime | None:
    """``30m``, ``2h`` or an ISO time (UTC when no zone is given)."""
    if not value:
        return None
    if match := _RELATIVE.match(value.strip()):
        amount, unit = int(match.group(1)), match.group(2)
        delta = timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount)
        return (now or datetime.now(UTC)) + delta
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def post(
    message: Annotated[str, typer.Option(help="What customers should know, in plain words.")],
    state: Annotated[
        str, typer.Option(help="investigating | identified | monitoring | resolved")
    ] = "investigating",
    title: Annotated[str | None, typer.Option(help="Title of a new incident.")] = None,
    incident: Annotated[int | None, typer.Option(help="Update this incident instead.")] = None,
    eta: Annotated[str | None, typer.Option(help="Expected resolution: 30m, 2h or ISO.")] = None,
    component: Annotated[
        list[str] | None, typer.Option(help="ordering, tracking, payments (repeatable).")
    ] = None,
    author: Annotated[str, typer.Option(help="Who posts it.")] = "operator",
) -> None:
    """Post a new incident (with --title) or an update (with --incident N)."""
    from gourmet.observability.status import repository
    from gourmet.observability.status.schemas import IncidentPost

    if (title is None) == (incident is None):
        raise typer.BadParameter("give --title for a new incident, or --incident N to update one")
    try:
        update = msgspec.convert(
            {
                "state": state,
                "message": message,
                "title": title,
                "components": component,
                "expected_resolution_at": parse_eta(eta),
            },
            IncidentPost,
        )
    except (msgspec.ValidationError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc

    async def write() -> int:
        async with connect() as conn, conn.transaction():
            if incident is None:
                return await repository.create_incident(conn, update, author)
            if not await repository.update_incident(conn, incident, update, author):
                raise typer.BadParameter(f"there is no incident {incident}")
            return incident

    try:
        number = asyncio.run(write())
    except psycopg.errors.CheckViolation as exc:
        raise typer.BadParameter(f"refused by the database: {exc.diag.message_primary}") from exc
    console.print(f"incident {number}: {state}; customers see it on /status within a second")


@app.command("list")
def list_incidents() -> None:
    """Open incidents and those of the last 7 days."""
    from gourmet.observability.status import repository

    async def read() -> None:
        async with connect() as conn:
            for item in await repository.recent_incidents(conn):
                eta = (
                    f", expected {item.expected_resolution_at:%H:%M}"
                    if item.expected_resolution_at
                    else ""
                )
                console.print(f"#{item.id} [{item.state}] {item.title}{eta}: {item.message}")

    asyncio.run(read())
