"""The simulation's pictures: an HTML page (plotly) and, where matplotlib is installed (the
dev tools), a PNG for a note or an issue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gourmet_tools.capacity.simulate import Outcome

COLORS = {"old": "#d62728", "naive": "#ff7f0e", "gourmet": "#2ca02c"}
ROWS = (
    "replicas",
    "DB connections asked",
    "orders placed /s",
    "p99 checkout answer, 10 s window (s)",
)


def series(outcome: Outcome) -> list[list[float]]:
    return [
        [s.replicas for s in outcome.seconds],
        [s.connections for s in outcome.seconds],
        [s.placed for s in outcome.seconds],
        [s.p99_s for s in outcome.seconds],
    ]


def write_html(outcomes: Sequence[Outcome], path: Path, title: str) -> Path:
    figure = make_subplots(rows=len(ROWS), cols=1, shared_xaxes=True, subplot_titles=ROWS)
    for outcome in outcomes:
        for row, values in enumerate(series(outcome), start=1):
            figure.add_trace(
                go.Scatter(
                    y=values,
                    name=outcome.policy,
                    legendgroup=outcome.policy,
                    showlegend=row == 1,
                    line={"color": COLORS[outcome.policy]},
                ),
                row=row,
                col=1,
            )
    ceiling = outcomes[0].connection_ceiling
    figure.add_hline(y=ceiling, line_dash="dash", row=2, col=1, annotation_text="max_connections")
    figure.update_layout(title=title, height=1000)
    figure.update_xaxes(title_text="seconds", row=len(ROWS), col=1)
    figure.write_html(path, include_plotlyjs=True)
    return path


def write_png(outcomes: Sequence[Outcome], path: Path, title: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # a runtime install without the dev tools: the HTML is enough
        return None
    fig, axes = plt.subplots(len(ROWS), 1, figsize=(10, 11), sharex=True)
    for outcome in outcomes:
        for axis, values in zip(axes, series(outcome), strict=True):
            axis.plot(values, label=outcome.policy, color=COLORS[outcome.policy], linewidth=1.2)
    for axis, label in zip(axes, ROWS, strict=True):
        axis.set_title(label, fontsize=10)
    axes[1].axhline(outcomes[0].connection_ceiling, linestyle="--", color="black", linewidth=0.8)
    axes[1].annotate("usable max_connections", (0, outcomes[0].connection_ceiling + 2))
    axes[0].legend()
    axes[-1].set_xlabel("seconds")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
