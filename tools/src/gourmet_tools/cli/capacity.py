"""``gourmet capacity plan``: the connection budget of a deployment, before it is deployed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gourmet.config import Settings
from gourmet.db.plan import Deployment, plan
from gourmet_tools.capacity import plot
from gourmet_tools.capacity.simulate import Model, run_all

app = typer.Typer(help="Capacity: plan a deployment within the database's connections.")
console = Console()


@app.command("plan")
def plan_command(
    max_connections: Annotated[int, typer.Option(help="PostgreSQL's max_connections")] = 100,
    superuser_reserved: Annotated[
        int, typer.Option(help="PostgreSQL's superuser_reserved_connections")
    ] = 3,
    reserved: Annotated[
        int | None,
        typer.Option(help="kept for operators, migrations, monitoring (default: the setting)"),
    ] = None,
    workers_per_pod: Annotated[
        int, typer.Option(help="GOURMET_SERVER__WORKERS of each replica")
    ] = 2,
    max_replicas: Annotated[int, typer.Option(help="the autoscaler's maxReplicas")] = 4,
    pool_size: Annotated[
        int | None, typer.Option(help="each worker's pool (default: derived)")
    ] = None,
    pgbouncer_replicas: Annotated[
        int, typer.Option(help="PgBouncer instances in transaction mode (0: none)")
    ] = 0,
    pgbouncer_pool_size: Annotated[
        int | None, typer.Option(help="server connections of each PgBouncer (default: derived)")
    ] = None,
    checkouts_per_worker: Annotated[
        float, typer.Option(help="checkouts/s one worker sustains (make bench, with headroom)")
    ] = 400.0,
) -> None:
    """Print the budget table; exit 1, saying why, when the plan can exceed the database."""
    deployment = Deployment(
        max_connections=max_connections,
        superuser_reserved=superuser_reserved,
        reserved=Settings().database.reserved_connections if reserved is None else reserved,
        workers_per_pod=workers_per_pod,
        max_replicas=max_replicas,
        pool_size=pool_size,
        pgbouncer_replicas=pgbouncer_replicas,
        pgbouncer_pool_size=pgbouncer_pool_size,
        checkouts_per_worker=checkouts_per_worker,
    )
    result = plan(deployment)
    table = Table(title=f"Connections at {max_replicas} replicas x {workers_per_pod} workers")
    table.add_column("")
    table.add_column("connections", justify="right")
    for label, count in result.rows:
        table.add_row(label, str(count))
    console.print(table)
    if not result.fits:
        console.print(f"[red]This plan can exceed the database:[/red] {result.problem}")
        raise typer.Exit(code=1)
    settings = [f"GOURMET_DATABASE__POOL_MAX_SIZE={result.pool_size}"]
    if result.pgbouncer_pool_size:
        settings.append(f"PgBouncer default_pool_size={result.pgbouncer_pool_size}")
    console.print("settings: " + ", ".join(settings))
    console.print(
        f"checkout capacity at full scale-out: {result.checkout_capacity:.0f}/s"
        " (the growth alert's gourmet:planned_capacity_rps)"
    )


@app.command("simulate")
def simulate_command(
    out: Annotated[Path | None, typer.Option(help="folder (default var/simulate/<time>)")] = None,
    max_connections: Annotated[int, typer.Option(help="PostgreSQL's max_connections")] = 100,
    max_replicas: Annotated[int, typer.Option(help="the autoscaler's maxReplicas")] = 12,
    base_rate: Annotated[float, typer.Option(help="customers/s before the spike")] = 40.0,
    scale: Annotated[float, typer.Option(help="time compression of the November curve")] = 0.5,
    seed: Annotated[int, typer.Option(help="the random arrivals' seed")] = 1,
) -> None:
    """The November curve against the old setup, naive scale-out and Gourmet's policy (SimPy):
    a table of customers' outcomes and a plot of replicas, connections, goodput and p99."""
    model = Model(
        max_connections=max_connections,
        max_replicas=max_replicas,
        base_rate=base_rate,
        scale=scale,
        seed=seed,
    )
    folder = out or Path("var") / "simulate" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    outcomes = run_all(model, progress=lambda p: console.print(f"simulating {p}..."))
    table = Table(title=f"The November curve, {base_rate:g} customers/s then ten times that")
    for column in ("", *(o.policy for o in outcomes)):
        table.add_column(column, justify="right")
    rows = [
        ("customers", [f"{o.customers:,}" for o in outcomes]),
        ("got their order", [f"{o.served_share:.1%}" for o in outcomes]),
        ("gave up", [f"{o.gave_up:,}" for o in outcomes]),
        ("p99 time to order", [f"{o.p99_s:.1f} s" for o in outcomes]),
        ("connections asked, most", [f"{o.peak_connections}" for o in outcomes]),
        ("connections the database takes", [f"{o.connection_ceiling}" for o in outcomes]),
        ("seconds with every connection in use", [f"{o.exhausted_s}" for o in outcomes]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    console.print(table)
    title = "Simulated November spike: old setup, naive scale-out, Gourmet"
    console.print(f"plot: {plot.write_html(outcomes, folder / 'simulation.html', title)}")
    if png := plot.write_png(outcomes, folder / "simulation.png", title):
        console.print(f"picture: {png}")
