"""All SQL of the menu as customers and checkout read it, the seed's inserts, and the stock that
checkout takes and gives back. The manager's changes are in ``menu/edit_repository.py``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

import msgspec

from gourmet.db.types import Conn, Cursor
from gourmet.menu.schemas import Category, DayNotice, Item, Menu, OpenHours

# One round trip: items with their groups and options nested as JSON. An item is orderable when
# switched on and, if its stock is tracked, not sold out.
_ITEMS_SQL = """
SELECT i.id, i.category_id, i.name, i.description, i.price_cents, i.allergens, i.dietary,
    i.available AND coalesce(i.stock > 0, true) AS available, i.prep_minutes,
    i.stock IS NOT NULL AS stock_tracked,
    coalesce((
        SELECT json_agg(json_build_object(
            'id', g.id, 'name', g.name, 'min_choices', g.min_choices,
            'max_choices', g.max_choices,
            'options', coalesce((
                SELECT json_agg(json_build_object(
                    'id', o.id, 'name', o.name, 'price_delta_cents', o.price_delta_cents,
                    'available', o.available) ORDER BY o.position, o.id)
                FROM modifier_option o WHERE o.group_id = g.id), '[]')
        ) ORDER BY g.position, g.id)
        FROM modifier_group g WHERE g.item_id = i.id), '[]') AS modifier_groups
FROM item i
{where}
ORDER BY i.category_id, i.position, i.id
"""


async def fetch_items(conn: Conn, item_ids: Collection[int] | None = None) -> list[Item]:
    """Items with their modifier groups; all of them, or only ``item_ids``."""
    items, _ = await fetch_items_and_tracking(conn, item_ids)
    return items


async def fetch_items_and_tracking(
    conn: Conn, item_ids: Collection[int] | None = None
) -> tuple[list[Item], set[int]]:
    """Items, and the ids of those whose stock is counted."""
    if item_ids is None:
        cursor = await conn.execute(_ITEMS_SQL.format(where=""))
    else:
        cursor = await send_items_and_tracking(conn, item_ids)
    return await read_items_and_tracking(cursor)


async def send_items_and_tracking(conn: Conn, item_ids: Collection[int]) -> Cursor:
    """The read of these items, sent: in a pipeline it travels with the statements around it."""
    return await conn.execute(_ITEMS_SQL.format(where="WHERE i.id = ANY(%s)"), (list(item_ids),))


async def read_items_and_tracking(sent: Cursor) -> tuple[list[Item], set[int]]:
    rows = await sent.fetchall()
    tracked = {row["id"] for row in rows if row.pop("stock_tracked")}
    return [msgspec.convert(row, Item) for row in rows], tracked


async def fetch_menu(conn: Conn) -> Menu:
    restaurant = await (
        await conn.execute(
            "SELECT name, ordering_paused, pause_message, address, phone FROM restaurant"
        )
    ).fetchone()
    hours = await (
        await conn.execute(
            "SELECT weekday, opens_minute, closes_minute, fulfilment FROM opening_hours"
            " ORDER BY weekday, opens_minute, fulfilment"
        )
    ).fetchall()
    special_days = await (
        await conn.execute(
            "SELECT day, closed, opens_minute, closes_minute, message FROM special_day"
            " WHERE day BETWEEN current_date - 1 AND current_date + 31 ORDER BY day"
        )
    ).fetchall()
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
        address=restaurant["address"] if restaurant else "",
        phone=restaurant["phone"] if restaurant else "",
        hours=[msgspec.convert(row, OpenHours) for row in hours],
        special_days=[msgspec.convert(row, DayNotice) for row in special_days],
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
    prep_minutes: int | None = None,
) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO item (category_id, name, description, price_cents, allergens, dietary,"
            " stock, available, position, prep_minutes)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
                prep_minutes,
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


# -- the manager's side: the menu as stored (switches, stock, positions) and its changes --------


async def take_stock(conn: Conn, quantities: dict[int, int]) -> tuple[list[int], bool]:
    """Decrement the stock of these (tracked) items; return (items short, whether any sold out).

    Rows are locked in id order so that concurrent checkouts cannot deadlock on each other.
    """
    short: list[int] = []
    sold_out = False
    for item_id in sorted(quantities):
        row = await (
            await conn.execute(
                "UPDATE item SET stock = stock - %(qty)s, updated_at = now()"
                " WHERE id = %(id)s AND stock >= %(qty)s RETURNING stock",
                {"id": item_id, "qty": quantities[item_id]},
            )
        ).fetchone()
        if row is None:
            short.append(item_id)
        elif row["stock"] == 0:
            sold_out = True
    return short, sold_out


async def return_stock(conn: Conn, order_id: int) -> bool:
    """Give a cancelled order's items back to tracked stock; True when any came back."""
    cur = await conn.execute(
        "UPDATE item i SET stock = i.stock + l.qty, updated_at = now()"
        " FROM (SELECT item_id, sum(quantity) AS qty FROM order_line"
        "       WHERE order_id = %s GROUP BY item_id) l"
        " WHERE i.id = l.item_id AND i.stock IS NOT NULL",
        (order_id,),
    )
    return cur.rowcount > 0
