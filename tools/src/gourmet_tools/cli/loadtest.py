"""``gourmet loadtest``, ``gourmet replay-incident`` and ``gourmet drill``: load as an operator
runs it, with a report to keep and gates to fail on (``gourmet_tools.loadtest``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.prompt import Prompt

from gourmet.db.embedded import start_embedded
from gourmet_tools.loadtest import report
from gourmet_tools.loadtest.customers import CONNECTION_LOST, Customer
from gourmet_tools.loadtest.drill import Drill
from gourmet_tools.loadtest.local import STAFF_TOKEN, fresh_database, local_server
from gourmet_tools.loadtest.replay import (
    REPLAY_SHAPES,
    SPIKE_X_CAPACITY,
    measure_capacity,
    replay_incident,
)
from gourmet_tools.loadtest.runner import Progress, RunResult, run_shape
from gourmet_tools.loadtest.shapes import SHAPES, november
from gourmet_tools.percentiles import known, percentile

console = Console()
LOCAL_PORT = 8182


def _folder(kind: str) -> Path:
    return Path("var") / kind / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _progress(live: Live, label: str) -> Progress:
    def show(elapsed: float, customers: list[Customer]) -> None:
        arrived = [c for c in customers if c.arrives_s <= elapsed]
        placed = sum(1 for c in arrived if c.token is not None)
        answers = [s for c in arrived for _, s in c.answers]
        failed = sum(1 for s in answers if (s >= 500 and s != 503) or s == CONNECTION_LOST)
        latencies = [x for c in arrived for x in c.latencies]
        p99 = known(percentile(latencies, 99))
        rate = len(answers) / max(elapsed, 1)
        live.update(
            f"[bold]{label}[/bold]  {elapsed:5.0f} s  arrived {len(arrived):,}"
            f"  placed {placed:,}  attempts {len(answers):,} ({rate:.0f}/s)"
            f"  errors {failed:,}  p99 {'-' if p99 is None else f'{p99 * 1000:.0f} ms'}"
        )

    return show


@contextmanager
def _live() -> Iterator[Callable[[str], Progress]]:
    with Live("", console=console, refresh_per_second=4, transient=True) as live:
        yield lambda label: _progress(live, label)


def replay(
    out: Annotated[
        Path | None, typer.Option(help="report folder (default var/replay/<time>)")
    ] = None,
    shape: Annotated[
        str, typer.Option(help=f"the night to offer, one of: {', '.join(REPLAY_SHAPES)}")
    ] = "november",
    scale: Annotated[float, typer.Option(help="time compression of the shape")] = 0.25,
    patience: Annotated[float, typer.Option(help="seconds a customer keeps trying")] = 120.0,
    pool_size: Annotated[int, typer.Option(help="each server's pool")] = 1,
    base_rate: Annotated[
        float | None,
        typer.Option(help="normal customers/s (default: the peak offers twice the capacity)"),
    ] = None,
) -> None:
    """Replay the November spike (or --shape) against the incident profile and the hardened
    one, each on a fresh database, and write one report side by side, the waits beside an
    ideal first-come-first-served queue's (under 10 minutes)."""
    if shape not in REPLAY_SHAPES:
        raise typer.BadParameter(f"unknown shape {shape!r}; one of {', '.join(REPLAY_SHAPES)}")
    folder = out or _folder("replay")
    started = time.monotonic()
    with _live() as progress:
        results = replay_incident(
            folder,
            scale=scale,
            patience_s=patience,
            pool_size=pool_size,
            base_rate=base_rate,
            shape=shape,
            say=console.print,
            progress=progress,
        )
    page = report.write(results, folder, f"{REPLAY_SHAPES[shape]}: incident vs hardened")
    report.print_table(results, console)
    console.print(f"report: {page}  ({time.monotonic() - started:.0f} s in all)")


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)\s*(ms|s)?", text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r}: a duration such as 300ms or 2s")
    return float(match.group(1)) * (0.001 if match.group(2) == "ms" else 1.0)


def _share(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)\s*(%?)", text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r}: a share such as 0.1% or 0.001")
    return float(match.group(1)) / (100 if match.group(2) else 1)


def gates(
    result: RunResult, max_p99: str | None, max_error_rate: str | None, min_orders: str | None
) -> list[str]:
    """The SLO gates the run failed, each said in words."""
    figures = result.figures
    failed = []
    if max_p99 is not None and figures["attempt_p99_ms"] / 1000 > _duration(max_p99):
        failed.append(f"p99 {figures['attempt_p99_ms']:.0f} ms > {max_p99}")
    if max_error_rate is not None and figures["error_rate"] > _share(max_error_rate):
        failed.append(f"error rate {figures['error_rate']:.2%} > {max_error_rate}")
    if min_orders is not None and figures["placed_share"] < _share(min_orders):
        failed.append(f"orders placed {figures['placed_share']:.1%} < {min_orders}")
    return failed


def loadtest(
    shape: Annotated[str, typer.Argument(help=f"one of: {', '.join(SHAPES)}")],
    url: Annotated[
        str | None, typer.Option(help="a running Gourmet (default: start one here)")
    ] = None,
    base_rate: Annotated[float, typer.Option(help="normal customers per second")] = 5.0,
    scale: Annotated[float, typer.Option(help="time compression of the shape")] = 1.0,
    patience: Annotated[float, typer.Option(help="seconds a customer keeps trying")] = 60.0,
    staff_token: Annotated[
        str | None, typer.Option(help="to read the alerts of a --url server")
    ] = None,
    max_p99: Annotated[str | None, typer.Option(help="gate: attempts' p99, e.g. 300ms")] = None,
    max_error_rate: Annotated[
        str | None, typer.Option(help="gate: share of attempts failed, e.g. 0.1%")
    ] = None,
    min_orders: Annotated[
        str | None, typer.Option(help="gate: share of customers who got their order, e.g. 95%")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
) -> None:
    """Customers arriving in SHAPE (steady, dinner-rush, november, promotion, slow-climb,
    growth, soak) against a Gourmet; a report folder; exit 1 when a gate fails (for cron or
    CI)."""
    if shape not in SHAPES:
        raise typer.BadParameter(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
    plan = SHAPES[shape](base_rate, scale)
    folder = out or _folder("loadtest")
    with _target(url, staff_token, folder) as (base, token, database), _live() as progress:
        result = run_shape(
            shape,
            base,
            plan,
            patience_s=patience,
            staff_token=token,
            database_url=database,
            spike_prefix=plan.peak,
            progress=progress(shape),
        )
    page = report.write([result], folder, f"Load test: {plan.description}")
    report.print_table([result], console)
    console.print(f"report: {page}")
    failed = gates(result, max_p99, max_error_rate, min_orders)
    if failed:
        console.print("[red]gates failed:[/red] " + "; ".join(failed))
        raise typer.Exit(1)


@contextmanager
def _target(
    url: str | None, staff_token: str | None, folder: Path
) -> Iterator[tuple[str, str | None, str | None]]:
    """(base URL, staff token, database URL) of the Gourmet to load: ``url`` as given, or a
    local server on a fresh database of the embedded PostgreSQL, stopped afterwards."""
    if url is not None:
        yield url, staff_token, None
        return
    embedded = start_embedded(Path("var") / "loadtest-pgdata")
    name = "gourmet_loadtest"
    database = embedded.url_for(name)
    try:
        fresh_database(embedded.admin_url, database, name)
        env = {"GOURMET_DATABASE__URL": database, "GOURMET_DATA_DIR": str(folder / "server")}
        with local_server(env, LOCAL_PORT, folder / "server.log") as base:
            yield base, STAFF_TOKEN, database
    finally:
        embedded.stop()


def _ask(question: str, default: str) -> str:
    return Prompt.ask(question, default=default, console=console)


def drill(
    url: Annotated[
        str | None, typer.Option(help="a running Gourmet (default: start one here)")
    ] = None,
    staff_token: Annotated[
        str | None, typer.Option(help="staff token of a --url server (alerts, incidents)")
    ] = None,
    base_rate: Annotated[
        float | None,
        typer.Option(help="normal customers/s (default: a fifth of the measured capacity)"),
    ] = None,
    scale: Annotated[float, typer.Option(help="time compression of the November curve")] = 0.25,
    patience: Annotated[float, typer.Option(help="seconds a customer keeps trying")] = 120.0,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
) -> None:
    """Game day: the November spike against a Gourmet while you respond as on the night: the
    alert, its runbook, a status-page incident with an expected resolution time, resolving
    it. Each step's time goes into the report."""
    if url is not None and staff_token is None:
        raise typer.BadParameter("--url needs --staff-token: the drill reads alerts and posts")
    folder = out or _folder("drill")
    with _target(url, staff_token, folder) as (base, token, database):
        if base_rate is None:
            capacity = measure_capacity(base)
            base_rate = capacity * SPIKE_X_CAPACITY / 10
            console.print(f"checkout capacity {capacity:.0f}/s: normal {base_rate:.1f}/s")
        exercise = Drill(
            base,
            token or "",
            november(base_rate, scale),
            patience,
            ask=_ask,
            say=lambda text: console.print(text, markup=False),
            database_url=database,
        )
        steps, result = exercise.run()
    title = f"Drill: {result.shape.description}"
    page = report.write([result], folder, title, [(s.at_s, s.name, s.detail) for s in steps])
    report.print_table([result], console)
    console.print(f"report: {page}")
