"""Past orders as staff find them (``GET /api/staff/orders/search``, ``GET /api/staff/orders/{n}``):
by number, name, phone or email, days and status, newest first, page by page; any order opened
with its lines, history, payment and refunds; a search that makes no sense gets a clear answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gourmet.db.types import Conn
from gourmet.kitchen import past_orders
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

SEARCH = "/api/staff/orders/search"


async def place(client: Client, menu: FixtureMenu, name: str, phone: str, email: str) -> int:
    body = checkout_body([{"item_id": menu.cake}], name=name)
    body["customer"].update(phone=phone, email=email)
    answer = await client.post("/api/orders", json=body)
    assert answer.status_code == 201, answer.text
    number: int = answer.json()["number"]
    return number


async def found(client: Client, **params: Any) -> list[int]:
    answer = await client.get(SEARCH, params=params, headers=STAFF_HEADERS)
    assert answer.status_code == 200, answer.text
    return [order["number"] for order in answer.json()["orders"]]


async def test_staff_find_an_order_by_what_the_caller_says(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    ada = await place(client, menu, "Ada Lovelace", "555-0100", "ada@example.com")
    grace = await place(client, menu, "Grace Hopper", "555-0199", "grace@navy.example")
    old = await place(client, menu, "Ada Byron", "555-0142", "byron@example.com")
    await conn.execute(
        "UPDATE orders SET created_at = created_at - interval '10 days', status = 'completed'"
        " WHERE id = %s",
        (old,),
    )
    assert await found(client) == sorted([ada, grace, old], reverse=True)  # newest first
    assert await found(client, q="ada") == sorted([ada, old], reverse=True)  # any case
    assert await found(client, q="0199") == [grace]  # part of a phone number
    assert await found(client, q="NAVY.example") == [grace]
    assert await found(client, q=f"#{ada}") == [ada]  # its number, and only it
    assert ada in await found(client, q=str(ada))  # a number, or phones with those digits
    assert await found(client, q="100%_") == []  # wildcards are text
    assert await found(client, status="completed") == [old]
    row = await (
        await conn.execute("SELECT (now() AT TIME ZONE 'America/New_York')::date AS today")
    ).fetchone()
    assert row is not None
    today = row["today"]
    assert await found(client, **{"from": str(today)}) == sorted([ada, grace], reverse=True)
    assert await found(client, to=str(today - timedelta(days=5))) == [old]


async def test_pages_follow_one_another_without_gaps(
    client: Client, menu: FixtureMenu, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(past_orders, "PAGE_SIZE", 2)
    numbers = [
        await place(client, menu, f"Guest {n}", "555-0100", "g@example.com") for n in range(5)
    ]
    seen: list[int] = []
    before: int | None = None
    while True:
        params = {"before": before} if before else {}
        page = (await client.get(SEARCH, params=params, headers=STAFF_HEADERS)).json()
        seen += [order["number"] for order in page["orders"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == sorted(numbers, reverse=True)


async def test_any_order_opens_with_its_lines_history_and_refunds(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    number = await place(client, menu, "Ada Lovelace", "555-0100", "ada@example.com")
    await client.post(
        f"/api/staff/orders/{number}/status", json={"status": "accepted"}, headers=STAFF_HEADERS
    )
    await conn.execute("UPDATE orders SET refunded_cents = 100 WHERE id = %s", (number,))
    answer = await client.get(f"/api/staff/orders/{number}", headers=STAFF_HEADERS)
    assert answer.status_code == 200, answer.text
    order = answer.json()
    assert [entry["status"] for entry in order["history"]] == ["received", "accepted"]
    assert order["lines"][0]["name"] == "Cake"
    assert order["refunded_cents"] == 100
    missing = await client.get("/api/staff/orders/999999", headers=STAFF_HEADERS)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422),
        ({"q": "x" * 101}, 400),
        ({"status": "eaten"}, 400),
        ({"before": "0"}, 400),
        ({"from": "last week"}, 400),
    ],
)
async def test_a_search_that_makes_no_sense_gets_a_clear_answer(
    client: Client, menu: FixtureMenu, params: dict[str, str], status: int
) -> None:
    answer = await client.get(SEARCH, params=params, headers=STAFF_HEADERS)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_past_orders_are_for_staff(client: Client, menu: FixtureMenu) -> None:
    assert (await client.get(SEARCH)).status_code == 401
    assert (await client.get("/api/staff/orders/1")).status_code == 401
