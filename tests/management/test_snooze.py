"""Snooze (issue 24): an item 86'd until a moment comes back by itself, for every process's
menu; a snooze that makes no sense gets a clear 422 and changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.management.snooze import Snoozes
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import assert_problem, item_in_menu, snapshot, wait_for_menu
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/manage"


async def switch(client: Client, item: int, body: dict[str, Any]) -> Any:
    return await client.post(f"{API}/items/{item}/availability", json=body, headers=STAFF_HEADERS)


async def test_a_snoozed_item_comes_back_by_itself(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    off = await switch(client, menu.cake, {"available": False, "until": until.isoformat()})
    assert off.status_code == 200, off.text
    assert (off.json()["available"], off.json()["back_at"]) == (
        False,
        until.isoformat().replace("+00:00", "Z"),
    )
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.cake)["available"] is False)
    snoozes = Snoozes(runtime_of(app).services.pool, UTC)
    assert await snoozes() == 0  # not yet
    await conn.execute(
        "UPDATE item SET back_at = now() - interval '1 second' WHERE id = %s", (menu.cake,)
    )
    assert await snoozes() == 1
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.cake)["available"] is True)
    managed = await client.get(f"{API}/menu", headers=STAFF_HEADERS)
    item = next(i for c in managed.json()["categories"] for i in c["items"] if i["id"] == menu.cake)
    assert (item["available"], item["back_at"]) == (True, None)
    assert await snoozes() == 0  # once


async def test_switching_it_by_hand_ends_the_snooze(client: Client, menu: FixtureMenu) -> None:
    until = datetime.now(UTC) + timedelta(hours=2)
    await switch(client, menu.cake, {"available": False, "until": until.isoformat()})
    on = await switch(client, menu.cake, {"available": True})
    assert (on.json()["available"], on.json()["back_at"]) == (True, None)
    off = await switch(client, menu.cake, {"available": False})  # off, for good
    assert (off.json()["available"], off.json()["back_at"]) == (False, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"available": True, "until": "2099-01-01T00:00:00Z"}, "until"),  # on, until?
        ({"available": False, "until": "2020-01-01T00:00:00Z"}, "until"),  # the past
        ({"available": False, "until": "2099-01-01T00:00:00Z"}, "until"),  # beyond 30 days
        ({"available": False, "until": "2030-01-01T00:00:00"}, "until"),  # no zone
    ],
)
async def test_a_snooze_that_makes_no_sense_changes_nothing(
    client: Client, menu: FixtureMenu, conn: Conn, body: dict[str, Any], field: str
) -> None:
    before = await snapshot(conn)
    answer = await switch(client, menu.cake, body)
    problem = assert_problem(answer, 422, "invalid-value")
    assert problem["field"] == field
    assert await snapshot(conn) == before


async def test_an_item_with_a_daily_stock_starts_each_day_with_it(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    daily = await client.patch(
        f"{API}/items/{menu.soup}", json={"daily_stock": 12}, headers=STAFF_HEADERS
    )
    assert (daily.status_code, daily.json()["daily_stock"]) == (200, 12)
    assert daily.json()["stock"] == 3  # today's count is left as it is
    day = [date(2030, 1, 1)]  # days no real clock reaches in a test
    snoozes = Snoozes(runtime_of(app).services.pool, UTC, today=lambda _tz: day[0])
    assert await snoozes() == 1  # the first day seen: reset
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.soup)["available"] is True)
    stock = await (
        await conn.execute("SELECT stock FROM item WHERE id = %s", (menu.soup,))
    ).fetchone()
    assert stock == {"stock": 12}
    await conn.execute("UPDATE item SET stock = 4 WHERE id = %s", (menu.soup,))  # sold 8
    assert await snoozes() == 0  # the same day: once
    day[0] = date(2030, 1, 2)
    assert await snoozes() == 1
    stock = await (
        await conn.execute("SELECT stock FROM item WHERE id = %s", (menu.soup,))
    ).fetchone()
    assert stock == {"stock": 12}
    refused = await client.patch(
        f"{API}/items/{menu.soup}", json={"daily_stock": -1}, headers=STAFF_HEADERS
    )
    assert refused.status_code == 422
    off = await client.patch(
        f"{API}/items/{menu.soup}", json={"daily_stock": None}, headers=STAFF_HEADERS
    )
    assert off.json()["daily_stock"] is None
