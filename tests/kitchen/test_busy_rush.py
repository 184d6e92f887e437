"""Busy mode is about the rush, not the week (issue 24): it moves only the orders due within the
next two hours, emails only the customers whose order moved by more than ten minutes, and
automatic busy mode counts only the orders due soon."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.kitchen.busy import AutoBusy, BusyChange, BusyMode
from gourmet.ordering.notifications.notices import Notices
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.kitchen.test_busy import place, ready_at
from tests.serving import Client

pytestmark = pytest.mark.anyio


def emailing_busy_mode(app: Litestar) -> BusyMode:
    services = runtime_of(app).services
    return BusyMode(services.pool, services.order_book, Notices(email=True), on_change=lambda: None)


async def delay_emails(conn: Conn) -> dict[int, int]:
    rows = await (
        await conn.execute(
            "SELECT order_id, count(*) AS n FROM outbox WHERE kind = 'email'"
            " AND payload ->> 'event' = 'delayed' GROUP BY order_id"
        )
    ).fetchall()
    return {row["order_id"]: row["n"] for row in rows}


async def a_pre_order(
    client: Client, menu: FixtureMenu, conn: Conn, days: int
) -> dict[str, object]:
    order = await place(client, menu)
    await conn.execute(
        "UPDATE orders SET slot_start = slot_start + make_interval(days => %s),"
        " estimated_ready_at = NULL WHERE id = %s",
        (days, order["number"]),
    )
    return order


async def test_a_pre_order_days_away_is_neither_moved_nor_emailed(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    soon = await place(client, menu)
    later = await a_pre_order(client, menu, conn, days=3)
    await emailing_busy_mode(app).change(BusyChange(extra_minutes=20), actor="Sam")
    row = await (
        await conn.execute(
            "SELECT o.estimated_ready_at, (SELECT count(*) FROM order_status_history h"
            " WHERE h.order_id = o.id AND h.reason LIKE 'Delayed%%') AS delays"
            " FROM orders o WHERE o.id = %s",
            (later["number"],),
        )
    ).fetchone()
    assert row is not None
    assert (row["estimated_ready_at"], row["delays"]) == (None, 0)  # untouched
    assert await delay_emails(conn) == {soon["number"]: 1}


async def test_a_small_delay_is_shown_but_not_emailed(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    order = await place(client, menu)
    before = await ready_at(client, str(order["token"]))
    busy = emailing_busy_mode(app)
    await busy.change(BusyChange(extra_minutes=5), actor="Sam")
    moved = await ready_at(client, str(order["token"]))
    assert moved - before >= timedelta(minutes=5)  # on the tracking page at once
    assert await delay_emails(conn) == {}  # five minutes: no email
    await busy.change(BusyChange(extra_minutes=20), actor="Sam")  # fifteen more
    assert await delay_emails(conn) == {order["number"]: 1}


async def test_automatic_busy_mode_counts_only_orders_due_soon(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    services = runtime_of(app).services
    auto = AutoBusy(services.pool, services.busy, backlog=3, extra_minutes=15)
    await place(client, menu)
    await place(client, menu)
    await a_pre_order(client, menu, conn, days=1)
    await a_pre_order(client, menu, conn, days=2)
    assert await auto() is False  # four waiting, but two are tomorrow's and after
    await place(client, menu)
    assert await auto() is True
