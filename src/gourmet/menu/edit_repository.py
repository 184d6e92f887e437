"""All SQL of the manager's menu changes: the menu as stored (switches, stock, positions),
categories, items and their modifier groups, each change locking what it changes.

The menu's tables are written here, by ``menu/repository.py`` (the seed, stock taken by checkout)
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from psycopg import sql

from gourmet.db.types import Conn

# Like _ITEMS_SQL, but with the switch, the stock and the positions apart, as a manager edits them.
_MANAGED_ITEMS_SQL = """
SELECT i.id, i.category_id, i.name, i.description, i.price_cents, i.allergens, i.dietary,
    i.available, i.back_at, i.stock, i.daily_stock, i.prep_minutes,
    i.available AND coalesce(i.stock > 0, true) AS orderable,
    i.position,
    coalesce((
        SELECT json_agg(json_build_object(
            'id', g.id, 'name', g.name, 'min_choices', g.min_choices,
            'max_choices', g.max_choices, 'position', g.position,
            'options', coalesce((
                SELECT json_agg(json_build_object(
                    'id', o.id, 'name', o.name, 'price_delta_cents', o.price_delta_cents,
                    'available', o.available, 'position', o.position) ORDER BY o.position, o.id)
                FROM modifier_option o WHERE o.group_id = g.id), '[]')
        ) ORDER BY g.position, g.id)
        FROM modifier_group g WHERE g.item_id = i.id), '[]') AS modifier_groups
FROM item i
{where}
ORDER BY i.category_id, i.position, i.id
"""


# Columns a manager may change, per table: the only names that reach the dynamic UPDATEs below.
CATEGORY_COLUMNS = frozenset({"name", "position"})


ITEM_COLUMNS = frozenset(
    {
        "category_id",
        "name",
        "description",
        "price_cents",
        "allergens",
        "dietary",
        "available",
        "back_at",
        "stock",
        "daily_stock",
        "prep_minutes",
        "position",
    }
)


def _set_clause(changes: Mapping[str, object], allowed: frozenset[str]) -> sql.Composed:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        for column in changes
    )


async def managed_items(conn: Conn, item_id: int | None = None) -> list[dict[str, Any]]:
    """Every item as stored (or only ``item_id``), with groups and options nested."""
    if item_id is None:
        cursor = await conn.execute(_MANAGED_ITEMS_SQL.format(where=""))
    else:
        cursor = await conn.execute(_MANAGED_ITEMS_SQL.format(where="WHERE i.id = %s"), (item_id,))
    return await cursor.fetchall()


async def category_rows(conn: Conn, category_id: int | None = None) -> list[dict[str, Any]]:
    """Categories with how many items each has; all of them, or only ``category_id``."""
    cursor = await conn.execute(
        "SELECT c.id, c.name, c.position,"
        " (SELECT count(*) FROM item i WHERE i.category_id = c.id) AS item_count"
        " FROM category c WHERE %(id)s::bigint IS NULL OR c.id = %(id)s"
        " ORDER BY c.position, c.id",
        {"id": category_id},
    )
    return await cursor.fetchall()


async def lock_category(conn: Conn, category_id: int, *, exclusive: bool = False) -> bool:
    """Lock the category until the transaction ends; False when there is none.

    An item being added to (or moved into) the category takes the shared lock, deleting it the
    exclusive one, so an item can never land in a category deleted at the same moment.
    """
    query = (
        "SELECT id FROM category WHERE id = %s FOR UPDATE"
        if exclusive
        else "SELECT id FROM category WHERE id = %s FOR KEY SHARE"
    )
    row = await (await conn.execute(query, (category_id,))).fetchone()
    return row is not None


async def update_category(conn: Conn, category_id: int, changes: Mapping[str, object]) -> bool:
    if not changes:
        return await lock_category(conn, category_id)
    query = sql.SQL("UPDATE category SET {} WHERE id = {} RETURNING id").format(
        _set_clause(changes, CATEGORY_COLUMNS), sql.Placeholder("_id")
    )
    cursor = await conn.execute(query, {**changes, "_id": category_id})
    return await cursor.fetchone() is not None


async def category_has_items(conn: Conn, category_id: int) -> bool:
    row = await (
        await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM item WHERE category_id = %s) AS used", (category_id,)
        )
    ).fetchone()
    return bool(row and row["used"])


async def delete_category(conn: Conn, category_id: int) -> None:
    await conn.execute("DELETE FROM category WHERE id = %s", (category_id,))


async def update_item(conn: Conn, item_id: int, changes: Mapping[str, object]) -> bool:
    """Change these columns of the item; False when there is no such item."""
    assignments: list[sql.Composable] = [sql.SQL("updated_at = now()")]
    if changes:
        assignments.insert(0, _set_clause(changes, ITEM_COLUMNS))
    query = sql.SQL("UPDATE item SET {} WHERE id = {} RETURNING id").format(
        sql.SQL(", ").join(assignments), sql.Placeholder("_id")
    )
    cursor = await conn.execute(query, {**changes, "_id": item_id})
    return await cursor.fetchone() is not None


async def bring_back_snoozed(conn: Conn) -> int:
    """Switch on the items whose snooze has ended; how many."""
    cursor = await conn.execute(
        "UPDATE item SET available = true, back_at = NULL, updated_at = now()"
        " WHERE back_at <= now() RETURNING id"
    )
    return len(await cursor.fetchall())


async def reset_daily_stock(conn: Conn, today: date) -> int:
    """Once a local day: every item with a daily stock gets it back; how many items (0 when
    this day was reset already, by this process or another)."""
    claimed = await (
        await conn.execute(
            "INSERT INTO stock_reset (day) VALUES (%s) ON CONFLICT (day) DO NOTHING RETURNING day",
            (today,),
        )
    ).fetchone()
    if claimed is None:
        return 0
    cursor = await conn.execute(
        "UPDATE item SET stock = daily_stock, updated_at = now()"
        " WHERE daily_stock IS NOT NULL RETURNING id"
    )
    return len(await cursor.fetchall())


async def lock_item(conn: Conn, item_id: int) -> bool:
    """Lock the item until the transaction ends; False when there is none."""
    cursor = await conn.execute("SELECT id FROM item WHERE id = %s FOR UPDATE", (item_id,))
    return await cursor.fetchone() is not None


async def lock_item_modifiers(conn: Conn, item_id: int) -> dict[int, set[int]] | None:
    """Lock the item, its groups and their options; return {group id: option ids}.

    None when there is no such item. The locks keep a concurrent edit of the same item out and
    make an order being placed with one of these options finish first (its foreign key holds a
    share lock on the option), so that the check for options in past orders sees it.
    """
    if not await lock_item(conn, item_id):
        return None
    groups = await (
        await conn.execute(
            "SELECT id FROM modifier_group WHERE item_id = %s ORDER BY id FOR UPDATE", (item_id,)
        )
    ).fetchall()
    found: dict[int, set[int]] = {row["id"]: set() for row in groups}
    options = await (
        await conn.execute(
            "SELECT id, group_id FROM modifier_option WHERE group_id = ANY(%s)"
            " ORDER BY id FOR UPDATE",
            (list(found),),
        )
    ).fetchall()
    for row in options:
        found[row["group_id"]].add(row["id"])
    return found


async def options_in_orders(conn: Conn, option_ids: Collection[int]) -> list[int]:
    """Those of ``option_ids`` that past orders refer to (and so cannot be deleted)."""
    if not option_ids:
        return []
    rows = await (
        await conn.execute(
            "SELECT DISTINCT option_id FROM order_line_option WHERE option_id = ANY(%s)"
            " ORDER BY option_id",
            (list(option_ids),),
        )
    ).fetchall()
    return [row["option_id"] for row in rows]


async def delete_modifiers(
    conn: Conn, group_ids: Collection[int], option_ids: Collection[int]
) -> None:
    await conn.execute("DELETE FROM modifier_option WHERE id = ANY(%s)", (list(option_ids),))
    await conn.execute("DELETE FROM modifier_group WHERE id = ANY(%s)", (list(group_ids),))


async def save_modifier_group(
    conn: Conn,
    item_id: int,
    group_id: int | None,
    *,
    name: str,
    min_choices: int,
    max_choices: int,
    position: int,
) -> int:
    """Update the group ``group_id`` of the item, or add a new group when None; return its id."""
    values = {
        "item_id": item_id,
        "id": group_id,
        "name": name,
        "min": min_choices,
        "max": max_choices,
        "position": position,
    }
    if group_id is None:
        query = (
            "INSERT INTO modifier_group (item_id, name, min_choices, max_choices, position)"
            " VALUES (%(item_id)s, %(name)s, %(min)s, %(max)s, %(position)s) RETURNING id"
        )
    else:
        query = (
            "UPDATE modifier_group SET name = %(name)s, min_choices = %(min)s,"
            " max_choices = %(max)s, position = %(position)s"
            " WHERE id = %(id)s AND item_id = %(item_id)s RETURNING id"
        )
    row = await (await conn.execute(query, values)).fetchone()
    assert row is not None, "the caller checked that the group belongs to the item"
    return int(row["id"])


async def save_modifier_option(
    conn: Conn,
    group_id: int,
    option_id: int | None,
    *,
    name: str,
    price_delta_cents: int,
    available: bool,
    position: int,
) -> int:
    """Update the option ``option_id`` of the group, or add one when None; return its id."""
    values = {
        "group_id": group_id,
        "id": option_id,
        "name": name,
        "delta": price_delta_cents,
        "available": available,
        "position": position,
    }
    if option_id is None:
        query = (
            "INSERT INTO modifier_option (group_id, name, price_delta_cents, available, position)"
            " VALUES (%(group_id)s, %(name)s, %(delta)s, %(available)s, %(position)s)"
            " RETURNING id"
        )
    else:
        query = (
            "UPDATE modifier_option SET name = %(name)s, price_delta_cents = %(delta)s,"
            " available = %(available)s, position = %(position)s"
            " WHERE id = %(id)s AND group_id = %(group_id)s RETURNING id"
        )
    row = await (await conn.execute(query, values)).fetchone()
    assert row is not None, "the caller checked that the option belongs to the group"
    return int(row["id"])
