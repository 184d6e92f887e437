"""Menu management use cases: categories, items, modifiers, the 86 switch and stock.

Each use case is one transaction. Every change customers can see NOTIFYs ``menu_changed`` inside
that transaction, so every process reloads its menu cache when (and only when) it commits. Values
are checked before they are written: the database's CHECK constraints are the last line, never
the one a manager hits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.management.errors import (
    CategoryNotEmpty,
    CategoryNotFound,
    InvalidValue,
    ItemNotFound,
    NameTaken,
    OptionInUse,
    UnknownReference,
)
from gourmet.management.schemas import (
    CategoryCreate,
    CategoryPatch,
    CategoryView,
    GroupIn,
    ItemCreate,
    ItemPatch,
    ItemView,
    ManagedCategory,
    ManagedMenu,
    ModifierGroups,
)
from gourmet.menu import edit_repository as edits
from gourmet.menu import repository as repo

MAX_SNOOZE = timedelta(days=30)  # longer than that is off, not snoozed


class MenuEditor:
    def __init__(self, pool: GuardedPool) -> None:
        self._pool = pool

    # -- reading ------------------------------------------------------------------------------

    async def menu(self) -> ManagedMenu:
        """The menu as stored: every category (empty ones too) with its items."""
        async with self._pool.connection() as conn:
            categories = await edits.category_rows(conn)
            items = [msgspec.convert(row, ItemView) for row in await edits.managed_items(conn)]
        by_category: dict[int, list[ItemView]] = {}
        for item in items:
            by_category.setdefault(item.category_id, []).append(item)
        return ManagedMenu(
            categories=[
                ManagedCategory(c["id"], c["name"], c["position"], by_category.get(c["id"], []))
                for c in categories
            ]
        )

    async def categories(self) -> list[CategoryView]:
        async with self._pool.connection() as conn:
            rows = await edits.category_rows(conn)
        return [msgspec.convert(row, CategoryView) for row in rows]

    # -- categories ---------------------------------------------------------------------------

    async def create_category(self, data: CategoryCreate) -> CategoryView:
        name = clean_text(data.name, "name")
        async with self._pool.connection() as conn, conn.transaction():
            try:
                category_id = await repo.insert_category(conn, name, data.position)
            except psycopg.errors.UniqueViolation as exc:
                raise category_name_taken(name) from exc
            await repo.notify_menu_changed(conn)
            return await category_view(conn, category_id)

    async def update_category(self, category_id: int, data: CategoryPatch) -> CategoryView:
        changes = given(data)
        if "name" in changes:
            changes["name"] = clean_text(changes["name"], "name")
        async with self._pool.connection() as conn, conn.transaction():
            try:
                found = await edits.update_category(conn, category_id, changes)
            except psycopg.errors.UniqueViolation as exc:
                raise category_name_taken(changes["name"]) from exc
            if not found:
                raise CategoryNotFound(f"There is no category {category_id}.")
            await repo.notify_menu_changed(conn)
            return await category_view(conn, category_id)

    async def delete_category(self, category_id: int) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            # The exclusive lock waits for an item being added to the category right now, so
            # the emptiness check below sees it.
            if not await edits.lock_category(conn, category_id, exclusive=True):
                raise CategoryNotFound(f"There is no category {category_id}.")
            if await edits.category_has_items(conn, category_id):
                raise CategoryNotEmpty(
                    "This category still has items; move them to another category first "
                    "(or 86 them to hide them from customers)."
                )
            await edits.delete_category(conn, category_id)
            await repo.notify_menu_changed(conn)

    # -- items --------------------------------------------------------------------------------

    async def create_item(self, data: ItemCreate) -> ItemView:
        name = clean_text(data.name, "name")
        allergens = clean_tags(data.allergens, "allergens")
        dietary = clean_tags(data.dietary, "dietary")
        async with self._pool.connection() as conn, conn.transaction():
            await require_category(conn, data.category_id)
            item_id = await repo.insert_item(
                conn,
                category_id=data.category_id,
                name=name,
                description=data.description.strip(),
                price_cents=data.price_cents,
                allergens=allergens,
                dietary=dietary,
                stock=data.stock,
                available=data.available,
                position=data.position,
                prep_minutes=data.prep_minutes,
            )
            await repo.notify_menu_changed(conn)
            return await item_view(conn, item_id)

    async def update_item(self, item_id: int, data: ItemPatch) -> ItemView:
        changes = given(data)
        if "name" in changes:
            changes["name"] = clean_text(changes["name"], "name")
        if "description" in changes:
            changes["description"] = changes["description"].strip()
        for field in ("allergens", "dietary"):
            if field in changes:
                changes[field] = clean_tags(changes[field], field)
        return await self._change_item(item_id, changes)

    async def set_availability(
        self, item_id: int, available: bool, until: datetime | None = None
    ) -> ItemView:
        """The 86 switch: off hides the item from ordering at once, on brings it back; off
        ``until`` a moment snoozes it (:class:`gourmet.management.snooze.Snoozes` brings it
        back)."""
        if until is not None:
            if available:
                raise InvalidValue("Only an item switched off can be snoozed.", field="until")
            if until.tzinfo is None:
                raise InvalidValue("Give the time with its offset or zone.", field="until")
            left = until - datetime.now(UTC)
            if not timedelta(0) < left <= MAX_SNOOZE:
                raise InvalidValue(
                    f"Snooze until a moment in the next {MAX_SNOOZE.days} days.", field="until"
                )
        return await self._change_item(item_id, {"available": available, "back_at": until})

    async def set_stock(self, item_id: int, stock: int | None) -> ItemView:
        """Portions left (0: sold out), or None to stop counting."""
        return await self._change_item(item_id, {"stock": stock})

    async def _change_item(self, item_id: int, changes: dict[str, Any]) -> ItemView:
        async with self._pool.connection() as conn, conn.transaction():
            if not await edits.lock_item(conn, item_id):
                raise ItemNotFound(f"There is no menu item {item_id}.")
            if "category_id" in changes:
                await require_category(conn, changes["category_id"])
            await edits.update_item(conn, item_id, changes)
            await repo.notify_menu_changed(conn)
            return await item_view(conn, item_id)

    # -- modifiers ----------------------------------------------------------------------------

    async def replace_modifiers(self, item_id: int, data: ModifierGroups) -> ItemView:
        """Make the item's groups and options exactly ``data``, in its order.

        Groups and options sent with their ``id`` are kept (and updated), those without are
        added, and the item's others are removed, unless a past order refers to one: the
        order's history must keep it, so the change is refused and nothing is written.
        """
        groups = [clean_group(group, f"groups[{g}]") for g, group in enumerate(data.groups)]
        check_unique(groups)
        async with self._pool.connection() as conn, conn.transaction():
            existing = await edits.lock_item_modifiers(conn, item_id)
            if existing is None:
                raise ItemNotFound(f"There is no menu item {item_id}.")
            kept_groups, kept_options = check_references(groups, existing)
            dropped_groups = set(existing) - kept_groups
            dropped_options = set().union(*existing.values()) - kept_options
            ordered = await edits.options_in_orders(conn, dropped_options)
            if ordered:
                raise OptionInUse(
                    "Some of the options left out were ordered before, so they must stay: send "
                    'them again with "available": false to stop offering them.',
                    option_ids=ordered,
                )
            await edits.delete_modifiers(conn, dropped_groups, dropped_options)
            for g, group in enumerate(groups):
                group_id = await edits.save_modifier_group(
                    conn,
                    item_id,
                    group.id,
                    name=group.name,
                    min_choices=group.min_choices,
                    max_choices=group.max_choices,
                    position=g,
                )
                for o, option in enumerate(group.options):
                    await edits.save_modifier_option(
                        conn,
                        group_id,
                        option.id,
                        name=option.name,
                        price_delta_cents=option.price_delta_cents,
                        available=option.available,
                        position=o,
                    )
            await repo.notify_menu_changed(conn)
            return await item_view(conn, item_id)


# -- checks (pure) ------------------------------------------------------------------------------


def given(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually sent."""
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not msgspec.UNSET
    }


def clean_text(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidValue(f"{field} must not be blank.", field=field)
    return cleaned


def clean_tags(tags: Iterable[str], field: str) -> list[str]:
    """Tags trimmed, without repeats, in the order given."""
    cleaned: list[str] = []
    for index, tag in enumerate(tags):
        value = clean_text(tag, f"{field}[{index}]")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def clean_group(group: GroupIn, path: str) -> GroupIn:
    """The group with trimmed names, or a 422 when customers could not choose from it."""
    options = [
        msgspec.structs.replace(option, name=clean_text(option.name, f"{path}.options[{o}].name"))
        for o, option in enumerate(group.options)
    ]
    if group.min_choices > group.max_choices:
        raise InvalidValue(
            f"max_choices ({group.max_choices}) must be at least min_choices "
            f"({group.min_choices}).",
            field=f"{path}.max_choices",
        )
    offered = sum(option.available for option in options)
    if group.min_choices > offered:
        raise InvalidValue(
            f"Customers must choose {group.min_choices} but only {offered} option(s) are "
            "available, so nobody could order the item; 86 the item instead.",
            field=f"{path}.min_choices",
        )
    names = [option.name.casefold() for option in options]
    if len(set(names)) != len(names):
        raise InvalidValue("Two options of a group have the same name.", field=f"{path}.options")
    return msgspec.structs.replace(
        group, name=clean_text(group.name, f"{path}.name"), options=options
    )


def check_unique(groups: list[GroupIn]) -> None:
    names = [group.name.casefold() for group in groups]
    if len(set(names)) != len(names):
        raise InvalidValue("Two groups have the same name.", field="groups")
    group_ids = [group.id for group in groups if group.id is not None]
    option_ids = [o.id for group in groups for o in group.options if o.id is not None]
    for ids, field in ((group_ids, "groups"), (option_ids, "groups.options")):
        if len(set(ids)) != len(ids):
            raise InvalidValue("The same id is sent twice.", field=f"{field}.id")


def check_references(
    groups: list[GroupIn], existing: dict[int, set[int]]
) -> tuple[set[int], set[int]]:
    """The ids of the groups and options kept; a 422 for an id that is not the item's own."""
    kept_groups: set[int] = set()
    kept_options: set[int] = set()
    for g, group in enumerate(groups):
        if group.id is not None:
            if group.id not in existing:
                raise UnknownReference(
                    f"Group {group.id} is not one of this item's groups.", field=f"groups[{g}].id"
                )
            kept_groups.add(group.id)
        own = existing.get(group.id, set()) if group.id is not None else set()
        for o, option in enumerate(group.options):
            if option.id is None:
                continue
            if option.id not in own:
                raise UnknownReference(
                    f"Option {option.id} is not an option of this group (options cannot move "
                    "between groups).",
                    field=f"groups[{g}].options[{o}].id",
                )
            kept_options.add(option.id)
    return kept_groups, kept_options


# -- reads inside a transaction -----------------------------------------------------------------


async def require_category(conn: Conn, category_id: int) -> None:
    """Hold the category (shared) for the transaction, or say it does not exist."""
    if not await edits.lock_category(conn, category_id):
        raise UnknownReference(f"There is no category {category_id}.", field="category_id")


async def category_view(conn: Conn, category_id: int) -> CategoryView:
    rows = await edits.category_rows(conn, category_id)
    return msgspec.convert(rows[0], CategoryView)


async def item_view(conn: Conn, item_id: int) -> ItemView:
    rows = await edits.managed_items(conn, item_id)
    return msgspec.convert(rows[0], ItemView)


def category_name_taken(name: str) -> NameTaken:
    return NameTaken(f"There is already a category named {name!r}.", field="name")
