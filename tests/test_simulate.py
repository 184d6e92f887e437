"""``gourmet capacity simulate``: the simulation shows what the postmortem says happened, and
what the plan prevents. Short curves (scale 0.1), so it runs in seconds."""

from __future__ import annotations

from pathlib import Path

from gourmet_tools.capacity.simulate import Model, curve, simulate
from typer.testing import CliRunner

from gourmet.cli import app

MODEL = Model(scale=0.1, base_rate=30.0, patience_s=60.0)


def test_naive_scale_out_asks_more_than_the_database_has_and_the_plan_does_not() -> None:
    old, naive, ours = (simulate(p, MODEL) for p in ("old", "naive", "gourmet"))
    horizon = int(MODEL.patience_s + curve(MODEL).duration_s)
    for outcome in (old, naive, ours):
        assert len(outcome.seconds) == horizon
        assert outcome.customers > 0
    assert max(s.replicas for s in naive.seconds) > MODEL.old_replicas
    assert naive.peak_connections > naive.connection_ceiling
    assert naive.exhausted_s > 0
    assert ours.peak_connections <= ours.connection_ceiling
    assert ours.served_share > old.served_share
    assert ours.served_share > naive.served_share


def test_the_same_seed_gives_the_same_night() -> None:
    first, again = simulate("gourmet", MODEL), simulate("gourmet", MODEL)
    assert (first.served, first.customers) == (again.served, again.customers)


def test_the_command_prints_the_table_and_writes_the_plot(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["capacity", "simulate", "--out", str(tmp_path), "--scale", "0.1", "--base-rate", "30"],
    )
    assert result.exit_code == 0, result.output
    assert "got their order" in result.output
    page = (tmp_path / "simulation.html").read_text()
    assert "DB connections asked" in page
    assert (tmp_path / "simulation.png").stat().st_size > 10_000
