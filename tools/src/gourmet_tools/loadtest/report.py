"""The report of one or more runs side by side: a JSON summary, an HTML page of plots over
time (plotly, self-contained), and the table printed in the terminal."""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots
from rich.console import Console
from rich.table import Table

from gourmet_tools.loadtest.customers import CONNECTION_LOST, Customer
from gourmet_tools.loadtest.loadrun import Phase
from gourmet_tools.loadtest.probe import Sample
from gourmet_tools.loadtest.runner import RunResult, per_second
from gourmet_tools.loadtest.shapes import Shape
from gourmet_tools.percentiles import percentile

ROWS = (
    "arriving, confirmed /s",
    "customers waiting",
    "wait p50, p99 (s)",
    "answers /s",
    "pool in use, waiting",
    "server: placed, shed /s",
)
COLORS = {
    "customers arriving/s": "#888888",
    "orders confirmed/s": "#2ca02c",
    "customers waiting": "#ff7f0e",
    "wait p50 (s)": "#1f77b4",
    "wait p99 (s)": "#d62728",
    "placed (201/200)": "#2ca02c",
    "busy or in line (503)": "#ff7f0e",
    "other 5xx": "#d62728",
    "no answer": "#9467bd",
    "pool in use": "#1f77b4",
    "pool waiting": "#d62728",
    "placed/s (server)": "#2ca02c",
    "shed/s": "#ff7f0e",
}

IDEAL = "(same arrivals, measured capacity)"  # ideal_queue: what the measured waits are held to
# (label, figure key, format)
SUMMARY = [
    ("customers", "customers", "{:,}"),
    ("placed within patience", "placed_share", "{:.1%}"),
    ("orders placed/s at peak", "placed_per_s_peak", "{:,}"),
    ("wait p50", "wait_p50_s", "{:.1f} s"),
    ("wait p99", "wait_p99_s", "{:.1f} s"),
    ("checkout capacity measured before the run", "capacity_per_s", "{:.0f}/s"),
    (f"ideal FCFS queue wait p50 {IDEAL}", "ideal_wait_p50_s", "{:.2f} s"),
    (f"ideal FCFS queue wait p99 {IDEAL}", "ideal_wait_p99_s", "{:.2f} s"),
    ("wait p50 / ideal (goal ≤ 1.25)", "wait_vs_ideal_p50", "{:.2f}x"),
    ("wait p99 / ideal (goal ≤ 1.25)", "wait_vs_ideal_p99", "{:.2f}x"),
    ("attempts answered 503 (busy, in line)", "busy_rate", "{:.1%}"),
    ("attempts failed (other 5xx, no answer)", "error_rate", "{:.1%}"),
    ("attempts' p99", "attempt_p99_ms", "{:,.0f} ms"),
    ("pool waiters, most", "pool_waiting_max", "{:.0f}"),
    ("first alert after the spike began", "first_alert_s", "{:.0f} s"),
    ("which alert", "first_alert", "{}"),
    ("status page degraded after the spike began", "status_degraded_s", "{:.0f} s"),
    ("status page operational again after the spike", "status_operational_s", "{:.0f} s"),
    ("recovered after the spike", "recovery_s", "{:.0f} s"),
    ("spike's customers all served after", "backlog_cleared_s", "{:.0f} s"),
    ("orders lost", "lost", "{}"),
    ("orders duplicated", "duplicated", "{}"),
    ("spinners reloaded, the order sent again", "reloads", "{:,}"),
    ("checkout requests per customer", "attempts_mean", "{:.2f}"),
    ("placed but never acknowledged", "unacknowledged", "{}"),
]


def cell(figures: dict[str, Any], key: str, fmt: str) -> str:
    value = figures.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        never = ("first_alert_s", "recovery_s", "status_degraded_s", "status_operational_s")
        return "never" if key in never else "-"
    return fmt.format(value)


def write(
    results: Sequence[RunResult],
    folder: Path,
    title: str,
    steps: Sequence[tuple[float, str, str]] = (),
) -> Path:
    """summary.json and report.html in ``folder``; the HTML's path. ``steps`` are an operator's
    (seconds from the start, step, detail), as a drill records them."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "title": title,
        "steps": [{"at_s": at, "step": name, "detail": detail} for at, name, detail in steps],
        "runs": {
            r.label: {"shape": r.shape.name, "phases": [asdict(p) for p in r.shape.phases]}
            | r.figures
            for r in results
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (folder / "timeline.json").write_text(json.dumps(_timelines(results), default=str) + "\n")
    page = folder / "report.html"
    figure = plots(results, title)
    table = _html_table(results) + _html_steps(steps)
    text = figure.to_html(full_html=True, include_plotlyjs=True)
    page.write_text(text.replace("<body>", f"<body><h1>{html.escape(title)}</h1>{table}", 1))
    return page


def read(folder: Path) -> list[RunResult]:
    """The runs a report folder recorded (summary.json and timeline.json), to build the report
    again, or another from them."""
    summary = json.loads((folder / "summary.json").read_text())
    timelines = json.loads((folder / "timeline.json").read_text())
    results = []
    for label, figures in summary["runs"].items():
        shape = Shape(
            figures.pop("shape"), summary["title"], [Phase(**p) for p in figures.pop("phases")]
        )
        recorded = timelines[label]
        customers = [
            Customer(
                index,
                c["arrives_s"],
                b"",
                "",
                acknowledged_s=c["acknowledged_s"],
                token="recorded" if c["acknowledged_s"] is not None else None,
                answers=[(t, status) for t, status in c["answers"]],
                latencies=c.get("latencies", []),
            )
            for index, c in enumerate(recorded["customers"])
        ]
        samples = [Sample(**s) for s in recorded["samples"]]
        results.append(RunResult(label, shape, customers, samples, figures))
    return results


def print_table(results: Sequence[RunResult], console: Console | None = None) -> None:
    table = Table(title="Customers' outcomes")
    table.add_column("")
    for result in results:
        table.add_column(result.label, justify="right")
    for label, key, fmt in SUMMARY:
        table.add_row(label, *(cell(r.figures, key, fmt) for r in results))
    (console or Console()).print(table)


def _html_table(results: Sequence[RunResult]) -> str:
    head = "".join(f"<th>{r.label}</th>" for r in results)
    rows = "".join(
        f"<tr><td>{label}</td>"
        + "".join(f"<td>{cell(r.figures, key, fmt)}</td>" for r in results)
        + "</tr>"
        for label, key, fmt in SUMMARY
    )
    return (
        "<table style='font-family:sans-serif;border-collapse:collapse' border=1 cellpadding=4>"
        f"<tr><th></th>{head}</tr>{rows}</table>"
    )


def _html_steps(steps: Sequence[tuple[float, str, str]]) -> str:
    if not steps:
        return ""
    rows = "".join(
        f"<tr><td>{at:.1f} s</td><td>{html.escape(name)}</td><td>{html.escape(detail)}</td></tr>"
        for at, name, detail in steps
    )
    return (
        "<h2 style='font-family:sans-serif'>The operator's steps</h2>"
        "<table style='font-family:sans-serif;border-collapse:collapse' border=1 cellpadding=4>"
        f"<tr><th>at</th><th>step</th><th>detail</th></tr>{rows}</table>"
    )


def plots(results: Sequence[RunResult], title: str) -> go.Figure:
    figure = make_subplots(
        rows=len(ROWS),
        cols=len(results),
        shared_xaxes=True,
        column_titles=[r.label for r in results],
        row_titles=list(ROWS),
        vertical_spacing=0.03,
    )
    for col, result in enumerate(results, start=1):
        for row, traces in enumerate(_traces(result), start=1):
            for trace in traces:
                trace.update(
                    legendgroup=trace.name,
                    showlegend=col == 1,
                    line={"color": COLORS.get(str(trace.name))},
                )
                figure.add_trace(trace, row=row, col=col)
        alerts = [(s.t, ", ".join(s.alerts)) for s in result.samples if s.alerts]
        if alerts:
            figure.add_trace(
                go.Scatter(
                    x=[t for t, _ in alerts],
                    y=[0] * len(alerts),
                    mode="markers",
                    marker={"symbol": "triangle-up", "size": 9, "color": "crimson"},
                    name="alert firing",
                    legendgroup="alert firing",
                    showlegend=col == 1,
                    text=[names for _, names in alerts],
                ),
                row=len(ROWS),
                col=col,
            )
    figure.update_layout(
        height=260 * len(ROWS),
        title={"text": title},
        showlegend=True,
    )
    figure.update_xaxes(title_text="seconds", row=len(ROWS))
    return figure


def _traces(result: RunResult) -> list[list[go.Scatter]]:
    customers = result.customers
    arriving = per_second(customers, lambda c: [c.arrives_s])
    confirmed = per_second(
        customers, lambda c: [] if c.acknowledged_s is None else [c.acknowledged_s]
    )
    waiting = _waiting(customers)
    p50, p99 = _wait_percentiles(customers)
    samples = result.samples

    def line(y: Sequence[float], name: str, x: Sequence[float] | None = None) -> go.Scatter:
        return go.Scatter(x=list(x if x is not None else range(len(y))), y=list(y), name=name)

    placed = _rate([s.orders_placed_total for s in samples])
    shed = _rate([s.shed_total for s in samples])
    times = [s.t for s in samples]
    return [
        [line(arriving, "customers arriving/s"), line(confirmed, "orders confirmed/s")],
        [line(waiting, "customers waiting")],
        [line(p50, "wait p50 (s)"), line(p99, "wait p99 (s)")],
        [line(v, name) for name, v in _answers(customers).items()],
        [
            line([s.pool_in_use for s in samples], "pool in use", times),
            line([s.pool_waiting for s in samples], "pool waiting", times),
        ],
        [line(placed, "placed/s (server)", times[1:]), line(shed, "shed/s", times[1:])],
    ]


def _confirmed_at(customer: Customer) -> list[float]:
    return [] if customer.acknowledged_s is None else [customer.acknowledged_s]


def _left_at(customer: Customer) -> float:
    """When the customer stopped waiting: confirmed, or their last answer before giving up."""
    if customer.acknowledged_s is not None:
        return customer.acknowledged_s
    return customer.answers[-1][0] if customer.answers else customer.arrives_s


def _rate(totals: list[float]) -> list[float]:
    return [max(b - a, 0.0) for a, b in itertools.pairwise(totals)]


def _waiting(customers: list[Customer]) -> list[int]:
    end = math.ceil(max((c.arrives_s for c in customers), default=0.0)) + 1
    gone = [
        c.acknowledged_s
        if c.acknowledged_s is not None
        else (c.answers[-1][0] if c.answers else c.arrives_s)
        for c in customers
    ]
    return [
        sum(1 for c, left in zip(customers, gone, strict=True) if c.arrives_s <= t < left)
        for t in range(end)
    ]


def _wait_percentiles(customers: list[Customer]) -> tuple[list[float], list[float]]:
    by_second: dict[int, list[float]] = {}
    for c in customers:
        if c.acknowledged_s is not None:
            by_second.setdefault(math.floor(c.acknowledged_s), []).append(
                c.acknowledged_s - c.arrives_s
            )
    p50: list[float] = []
    p99: list[float] = []
    for second in range(max(by_second, default=-1) + 1):
        waits = by_second.get(second, [])
        p50.append(percentile(waits, 50))
        p99.append(percentile(waits, 99))
    return p50, p99


def _answers(customers: list[Customer]) -> dict[str, list[int]]:
    kinds = {
        "placed (201/200)": lambda s: s in (200, 201),
        "busy or in line (503)": lambda s: s == 503,
        "other 5xx": lambda s: s >= 500 and s != 503,
        "no answer": lambda s: s == CONNECTION_LOST,
    }
    return {
        name: per_second(customers, lambda c, test=test: [t for t, s in c.answers if test(s)])  # type: ignore[misc]
        for name, test in kinds.items()
    }


def _timelines(results: Sequence[RunResult]) -> dict[str, Any]:
    return {
        r.label: {
            "customers": [
                {
                    "arrives_s": c.arrives_s,
                    "acknowledged_s": c.acknowledged_s,
                    "answers": c.answers,
                    "latencies": c.latencies,
                }
                for c in r.customers
            ],
            "samples": [asdict(s) for s in r.samples],
        }
        for r in results
    }
