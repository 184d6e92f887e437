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

from gourmet.cli.context import command_services
from gourmet.observability.status.schemas import IncidentPost
from gourmet.problems import Problem

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
        async with command_services() as services:
            return await services.status_board.post(update, author, incident_id=incident)

    try:
        number = asyncio.run(write())
    except Problem as problem:
        raise typer.BadParameter(problem.detail) from problem
    except psycopg.errors.CheckViolation as exc:
        raise typer.BadParameter(f"refused by the database: {exc.diag.message_primary}") from exc
    console.print(f"incident {number}: {state}; customers see it on /status within a second")


@app.command("list")
def list_incidents() -> None:
    """Open incidents and those of the last 7 days."""

    async def read() -> None:
        async with command_services() as services:
            await services.status_board.reload()
            for item in services.status_board.feed().incidents:
                eta = (
                    f", expected {item.expected_resolution_at:%H:%M}"
                    if item.expected_resolution_at
                    else ""
                )
                console.print(f"#{item.id} [{item.state}] {item.title}{eta}: {item.message}")

    asyncio.run(read())
