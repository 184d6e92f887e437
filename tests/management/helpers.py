"""What the management tests share: the stored state to compare, problems, the served menu."""

from __future__ import annotations

from typing import Any

from gourmet.db.types import Conn
from tests.ordering.test_checkout_api import assert_problem
from tests.polling import wait_for
from tests.serving import Client

__all__ = ["assert_problem", "find_item", "item_in_menu", "snapshot", "wait_for", "wait_for_menu"]

# Everything a manager can change, row by row (timestamps included: a refused request must not
# even touch a row).
_TABLES = {
    "restaurant": "id",
    "category": "id",
    "item": "id",
    "modifier_group": "id",
    "modifier_option": "id",
    "opening_hours": "weekday, opens_minute",
    "slot_capacity": "fulfilment",
    "delivery_zone": "id",
}


async def snapshot(conn: Conn) -> dict[str, Any]:
    """Every row of the tables the manager's API writes."""
    state: dict[str, Any] = {}
    for table, order in _TABLES.items():
        cursor = await conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
        state[table] = await cursor.fetchall()
    return state


def find_item(menu: dict[str, Any], item_id: int) -> dict[str, Any] | None:
    return next((i for c in menu["categories"] for i in c["items"] if i["id"] == item_id), None)


def item_in_menu(menu: dict[str, Any], item_id: int) -> dict[str, Any]:
    item = find_item(menu, item_id)
    assert item is not None, f"item {item_id} is not in the menu"
    return item


async def wait_for_menu(client: Client, done: Any) -> dict[str, Any]:
    """The public menu once ``done(menu)``: it reloads through NOTIFY after the commit."""
    response = await wait_for(lambda: client.get("/api/menu"), lambda r: done(r.json()))
    menu: dict[str, Any] = response.json()
    return menu
