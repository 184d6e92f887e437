"""All SQL of the menu."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from gourmet.db.types import Conn
from gourmet.menu.schemas import Category, Item, Menu, ModifierGroup, Option

# An item is orderable when switched on and, if its stock is tracked, not sold out.
_ITEMS_SQL = """
SELECT id, category_id, name, description, price_cents, allergens, dietary,
       available AND coalesce(stock > 0, true) AS available
FROM item
{where}
ORDER BY category_id, position, id
"""

_GROUPS_SQL = """
SELECT g.id, g.item_id, g.name, g.min_choices, g.max_choices,
       coalesce(json_agg(json_build_object(
           'id', o.id, 'name', o.name, 'price_delta_cents', o.price_delta_cents,
           'available', o.available) ORDER BY o.position, o.id)
         FILTER (WHERE o.id IS NOT NULL), '[]') AS options
FROM modifier_group g
LEFT JOIN modifier_option o ON o.group_id = g.id
{where}
GROUP BY g.id
ORDER BY g.item_id, g.position, g.id
"""


async def fetch_items(conn: Conn, item_ids: Collection[int] | None = None) -> list[Item]:
    """Items with their modifier groups; all of them, or only ``item_ids``."""
    if item_ids is None:
        items = await conn.execute(_ITEMS_SQL.format(where=""))
        groups = await conn.execute(_GROUPS_SQL.format(where=""))
    else:
        ids = list(item_ids)
        items = await conn.execute(_ITEMS_SQL.format(where="WHERE id = ANY(%s)"), (ids,))
        groups = await conn.execute(_GROUPS_SQL.format(where="WHERE g.item_id = ANY(%s)"), (ids,))
    groups_by_item: dict[int, list[ModifierGroup]] = defaultdict(list)
    for row in await groups.fetchall():
        groups_by_item[row["item_id"]].append(
            ModifierGroup(
                id=row["id"],
                name=row["name"],
                min_choices=row["min_choices"],
                max_choices=row["max_choices"],
                options=[Option(**option) for option in row["options"]],
            )
        )
    return [
        Item(**row, modifier_groups=groups_by_item.get(row["id"], []))
        for row in await items.fetchall()
    ]


async def fetch_menu(conn: Conn) -> Menu:
    restaurant = await (
        await conn.execute("SELECT name, ordering_paused, pause_message FROM restaurant")
    ).fetchone()
    categories = await (
        await conn.execute("SELECT id, name FROM category ORDER BY position, id")
    ).fetchall()
    items_by_category: dict[int, list[Item]] = defaultdict(list)
    for item in await fetch_items(conn):
        items_by_category[item.category_id].append(item)
    return Menu(
        restaurant=restaurant["name"] if restaurant else "Gourmet Delights",
        ordering_paused=bool(restaurant and restaurant["ordering_paused"]),
        pause_message=restaurant["pause_message"] if restaurant else "",
        categories=[
            Category(id=c["id"], name=c["name"], items=items_by_category.get(c["id"], []))
            for c in categories
        ],
    )


async def notify_menu_changed(conn: Conn) -> None:
    """Tell every process to reload its menu cache (delivered when the transaction commits)."""
    await conn.execute("SELECT pg_notify('menu_changed', '')")


async def menu_is_empty(conn: Conn) -> bool:
    row = await (await conn.execute("SELECT NOT EXISTS (SELECT 1 FROM item) AS empty")).fetchone()
    return bool(row and row["empty"])


async def insert_category(conn: Conn, name: str, position: int) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO category (name, position) VALUES (%s, %s) RETURNING id", (name, position)
        )
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def insert_item(
    conn: Conn,
    *,
    category_id: int,
    name: str,
    description: str,
    price_cents: int,
    allergens: Sequence[str] = (),
    dietary: Sequence[str] = (),
    stock: int | None = None,
    available: bool = True,
    position: int = 0,
) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO item (category_id, name, description, price_cents, allergens, dietary,"
            " stock, available, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                category_id,
                name,
                description,
                price_cents,
                list(allergens),
                list(dietary),
                stock,
                available,
                position,
            ),
        )
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def insert_modifier_group(
    conn: Conn,
    item_id: int,
    name: str,
    min_choices: int,
    max_choices: int,
    options: Sequence[tuple[str, int]],
    position: int = 0,
) -> list[int]:
    """A group with its options (name, price delta); return the option ids in order."""
    row = await (
        await conn.execute(
            "INSERT INTO modifier_group (item_id, name, min_choices, max_choices, position)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (item_id, name, min_choices, max_choices, position),
        )
    ).fetchone()
    assert row is not None
    ids: list[int] = []
    for index, (option_name, delta) in enumerate(options):
        option = await (
            await conn.execute(
                "INSERT INTO modifier_option (group_id, name, price_delta_cents, position)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                (row["id"], option_name, delta, index),
            )
        ).fetchone()
        assert option is not None
        ids.append(int(option["id"]))
    return ids
