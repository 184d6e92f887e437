"""``gourmet capacity plan``: pool sizes that keep a deployment within max_connections at full
scale-out, and a refusal, saying why, for one that can exceed it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gourmet.cli import app as cli
from gourmet.db.plan import Deployment, plan


def deployment(**overrides: int) -> Deployment:
    values = {
        "max_connections": 100,
        "superuser_reserved": 3,
        "reserved": 10,
        "workers_per_pod": 2,
        "max_replicas": 10,
        **overrides,
    }
    return Deployment(**values)


def total(rows: list[tuple[str, int]]) -> int:
    """What the processes and bouncers hold, from the budget rows."""
    return -sum(count for label, count in rows if label.startswith(("listeners", "pools", "PgB")))


def test_direct_pools_share_what_is_left_after_the_listeners() -> None:
    result = plan(deployment())
    assert result.fits
    assert result.pool_size == 3  # (100 - 3 - 10) // 20 - 1 listener
    assert total(result.rows) <= 87
    assert dict(result.rows)["spare"] == 87 - 20 * (3 + 1)
    assert result.checkout_capacity == 20 * 400


def test_a_pool_too_large_for_the_replicas_is_refused_with_what_to_change() -> None:
    result = plan(deployment(pool_size=10))
    assert not result.fits
    assert result.problem is not None
    assert "GOURMET_DATABASE__POOL_MAX_SIZE to at most 3" in result.problem


@pytest.mark.parametrize("replicas", [1, 5, 20, 42])
def test_pgbouncer_server_pools_never_exceed_the_budget(replicas: int) -> None:
    result = plan(deployment(max_replicas=replicas, pgbouncer_replicas=2))
    assert result.fits, result.problem
    listeners = 2 * replicas
    assert 2 * result.pgbouncer_pool_size + listeners <= 87


def test_too_many_listeners_leave_pgbouncer_nothing() -> None:
    # 44 replicas x 2 workers = 88 listeners: more than the 87 available, pooler or not.
    result = plan(deployment(max_replicas=44, pgbouncer_replicas=1))
    assert not result.fits
    assert result.problem is not None
    assert "listeners" in result.problem


def test_the_command_prints_the_table_and_exits_1_for_a_plan_that_does_not_fit() -> None:
    ok = CliRunner().invoke(cli, ["capacity", "plan", "--max-replicas", "10", "--reserved", "10"])
    assert ok.exit_code == 0, ok.output
    assert "GOURMET_DATABASE__POOL_MAX_SIZE=3" in ok.output
    refused = CliRunner().invoke(
        cli, ["capacity", "plan", "--max-replicas", "10", "--reserved", "10", "--pool-size", "10"]
    )
    assert refused.exit_code == 1
    assert "can exceed the database" in " ".join(refused.output.split())
