"""Managers' changes racing each other and customers, for real: never a 500, never a half-state."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import item_in_menu, wait_for_menu
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/manage"


async def test_removing_a_category_races_items_added_to_it(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    created = await client.post(
        f"{API}/categories", json={"name": "Specials"}, headers=STAFF_HEADERS
    )
    category = created.json()["id"]
    item = {"category_id": category, "name": "Special", "price_cents": 900}
    adds = [client.post(f"{API}/items", json=item, headers=STAFF_HEADERS) for _ in range(8)]
    removal = client.delete(f"{API}/categories/{category}", headers=STAFF_HEADERS)
    *added, removed = await asyncio.gather(*adds, removal)
    outcomes = Counter(r.status_code for r in added)
    assert set(outcomes) <= {201, 422}, [r.text for r in added]
    stored = await (
        await conn.execute("SELECT count(*) AS n FROM item WHERE category_id = %s", (category,))
    ).fetchone()
    assert stored is not None
    if removed.status_code == 204:  # removed first: every later add found no category
        assert outcomes == {422: 8}
        assert stored["n"] == 0
    else:  # an add won: the category stays with exactly the items acknowledged
        assert removed.status_code == 409, removed.text
        assert stored["n"] == outcomes[201] > 0


async def test_one_postcode_prefix_one_zone_under_concurrency(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    zones = [
        {"name": f"Zone {n}", "postcode_prefixes": ["QQ7"], "fee_cents": 100 + n} for n in range(6)
    ]
    answers = await asyncio.gather(
        *(client.post(f"{API}/zones", json=zone, headers=STAFF_HEADERS) for zone in zones)
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5
    rows = await (
        await conn.execute(
            "SELECT count(*) AS n FROM delivery_zone WHERE 'QQ7' = ANY(postcode_prefixes)"
        )
    ).fetchone()
    assert rows is not None
    assert rows["n"] == 1


async def test_the_menu_ends_with_the_last_change(client: Client, menu: FixtureMenu) -> None:
    """Rapid changes (one NOTIFY each) leave every process's cache on the final state."""
    for price in range(1001, 1011):
        response = await client.patch(
            f"{API}/items/{menu.pizza}", json={"price_cents": price}, headers=STAFF_HEADERS
        )
        assert response.status_code == 200
    await asyncio.gather(
        *(
            client.post(
                f"{API}/items/{item}/availability",
                json={"available": False},
                headers=STAFF_HEADERS,
            )
            for item in (menu.cake, menu.soup, menu.pizza)
        )
    )
    final = await wait_for_menu(
        client,
        lambda m: (
            not any(item_in_menu(m, i)["available"] for i in (menu.cake, menu.soup, menu.pizza))
        ),
    )
    assert item_in_menu(final, menu.pizza)["price_cents"] == 1010
