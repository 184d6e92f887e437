"""The schema guards the data even against code that forgets to: money, quantities, statuses."""

from __future__ import annotations

import psycopg
import pytest

from gourmet.db import migrate
from gourmet.db.types import Conn
from tests.conftest import FixtureMenu

pytestmark = pytest.mark.anyio


async def test_migrations_are_all_applied(database_url: str) -> None:
    status = migrate.status(database_url)
    assert status.pending == []
    assert "0001_initial" in status.applied


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE item SET price_cents = -1",
        "UPDATE item SET stock = -1 WHERE stock IS NOT NULL",
        "UPDATE modifier_group SET max_choices = 0",
        "INSERT INTO opening_hours VALUES (7, 0, 60)",
        "INSERT INTO opening_hours VALUES (0, 600, 500)",
        "UPDATE slot_capacity SET max_orders = -1",
        "INSERT INTO slot_booking VALUES ('pickup', now(), -1)",
        "INSERT INTO account (email, password_hash) VALUES ('Ada@example.com', 'h')",
        "INSERT INTO account (email, password_hash) VALUES ('no-at-sign', 'h')",
        "INSERT INTO account (email, password_hash, role) VALUES ('a@example.com', 'h', 'root')",
    ],
)
async def test_check_constraints_refuse_bad_values(
    conn: Conn, menu: FixtureMenu, statement: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        await conn.execute(statement)


async def test_timestamps_are_timezone_aware(conn: Conn) -> None:
    rows = await (
        await conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type LIKE 'timestamp%%'"
            " AND table_name NOT LIKE '_yoyo%%' AND table_name NOT LIKE 'yoyo%%'"
        )
    ).fetchall()
    assert rows, "expected timestamp columns"
    assert {r["data_type"] for r in rows} == {"timestamp with time zone"}
