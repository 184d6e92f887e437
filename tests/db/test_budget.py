"""The connection budget: pool sizes that fit, and a startup that refuses what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gourmet.app import create_app
from gourmet.config import DatabaseSettings, SecuritySettings, ServerSettings, Settings
from gourmet.db.budget import ConnectionBudget, ConnectionBudgetError
from tests.serving import StartupError, serve

pytestmark = pytest.mark.anyio


def test_pool_size_follows_from_the_budget() -> None:
    budget = ConnectionBudget(max_connections=100, reserved=13, processes=4)
    assert budget.available == 87
    assert budget.pool_size(None) == 20  # fair share 20 (87 // 4 - 1), at the ceiling
    assert ConnectionBudget(100, 13, 8).pool_size(None) == 9  # 87 // 8 - 1
    assert budget.pool_size(15) == 15


def test_over_budget_configuration_is_refused_with_advice() -> None:
    budget = ConnectionBudget(max_connections=100, reserved=13, processes=8)
    with pytest.raises(ConnectionBudgetError) as caught:
        budget.pool_size(20)
    message = str(caught.value)
    assert "8 process(es) x (20 pooled + 1 listener) = 168 connections" in message
    assert "allows 87" in message
    assert "at most 9" in message
    with pytest.raises(ConnectionBudgetError):
        ConnectionBudget(max_connections=20, reserved=19, processes=2).pool_size(None)


async def test_startup_refuses_a_pool_the_database_cannot_hold(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_max_size=60),
        server=ServerSettings(workers=2),
        security=SecuritySettings(staff_token="x" * 20),
    )
    with pytest.raises(StartupError, match="Lower GOURMET_DATABASE__POOL_MAX_SIZE"):
        async with serve(create_app(settings)):
            pass


def test_incident_profile_reproduces_the_old_platform() -> None:
    old = Settings(profile="incident", database=DatabaseSettings(url="postgresql://x@/y"))
    assert (
        old.database.pool_timeout_s,
        old.database.pool_max_waiting,
        old.database.statement_timeout_ms,
    ) == (30.0, 0, 0)
    assert not old.hardened
    explicit = Settings(
        profile="incident", database=DatabaseSettings(url="postgresql://x@/y", pool_timeout_s=5)
    )
    assert explicit.database.pool_timeout_s == 5
    hardened = Settings(database=DatabaseSettings(url="postgresql://x@/y"))
    assert hardened.hardened
    assert hardened.database.pool_timeout_s == 2.0
    assert hardened.database.pool_max_waiting == 64
