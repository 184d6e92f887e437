"""HTTP for the manager: the menu, the 86 switch, stock, hours, capacity, zones, the pause.

Every route under ``/api/manage`` needs the manager role (a manager's or admin's session, or the
staff token, which counts as admin; ``X-Requested-With: gourmet`` for changes made with a
cookie). Kitchen staff move orders; they do not change prices.

A value outside what the schema allows is answered 422 ``invalid-value`` naming the ``field``
(here, rather than the app-wide 400), like the checks the services make themselves.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import require_role
from gourmet.http_errors import handle_validation, problem_response
from gourmet.management import refunds
from gourmet.management.errors import InvalidValue
from gourmet.management.rules import RulesEditor
from gourmet.management.schemas import (
    Availability,
    Capacity,
    CategoryCreate,
    CategoryPatch,
    CategoryView,
    ItemCreate,
    ItemPatch,
    ItemView,
    ManagedMenu,
    ModifierGroups,
    OpeningHours,
    Pause,
    RestaurantDetails,
    RestaurantSettings,
    RestaurantView,
    SpecialDays,
    StockLevel,
    ZoneCreate,
    ZonePatch,
    ZoneView,
)
from gourmet.management.service import MenuEditor
from gourmet.problems import NotFound

MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


# -- the menu -----------------------------------------------------------------------------------


@get("/menu", summary="The menu as stored: switches, stock and positions, empty categories too")
async def get_managed_menu(menu_editor: NamedDependency[MenuEditor]) -> ManagedMenu:
    return await menu_editor.menu()


@get("/categories", summary="Categories with their item counts")
async def list_categories(menu_editor: NamedDependency[MenuEditor]) -> list[CategoryView]:
    return await menu_editor.categories()


@post("/categories", summary="Add a category")
async def create_category(
    menu_editor: NamedDependency[MenuEditor], data: JSONBody[CategoryCreate]
) -> CategoryView:
    return await menu_editor.create_category(data)


@patch("/categories/{category_id:int}", summary="Rename or move a category")
async def update_category(
    menu_editor: NamedDependency[MenuEditor],
    category_id: FromPath[int],
    data: JSONBody[CategoryPatch],
) -> CategoryView:
    return await menu_editor.update_category(category_id, data)


@delete("/categories/{category_id:int}", summary="Remove an empty category")
async def delete_category(
    menu_editor: NamedDependency[MenuEditor], category_id: FromPath[int]
) -> None:
    await menu_editor.delete_category(category_id)


@post("/items", summary="Add a menu item")
async def create_item(
    menu_editor: NamedDependency[MenuEditor], data: JSONBody[ItemCreate]
) -> ItemView:
    return await menu_editor.create_item(data)


@patch(
    "/items/{item_id:int}",
    summary="Change a menu item (only the fields sent; stock null stops counting)",
)
async def update_item(
    menu_editor: NamedDependency[MenuEditor], item_id: FromPath[int], data: JSONBody[ItemPatch]
) -> ItemView:
    return await menu_editor.update_item(item_id, data)


@put(
    "/items/{item_id:int}/modifiers",
    summary="Replace an item's modifier groups and options",
    description=(
        "Groups and options sent with their id are kept and updated, those without are added, "
        "the others removed. Options of past orders cannot be removed (409): send them with "
        '"available": false instead.'
    ),
)
async def replace_modifiers(
    menu_editor: NamedDependency[MenuEditor], item_id: FromPath[int], data: JSONBody[ModifierGroups]
) -> ItemView:
    return await menu_editor.replace_modifiers(item_id, data)


@post(
    "/items/{item_id:int}/availability",
    summary="86 an item (available false), until a moment if given, or bring it back",
    status_code=200,
)
async def set_availability(
    menu_editor: NamedDependency[MenuEditor], item_id: FromPath[int], data: JSONBody[Availability]
) -> ItemView:
    return await menu_editor.set_availability(item_id, data.available, data.until)


@post(
    "/items/{item_id:int}/stock",
    summary="Set the portions left (0: sold out; null: stop counting)",
    status_code=200,
)
async def set_stock(
    menu_editor: NamedDependency[MenuEditor], item_id: FromPath[int], data: JSONBody[StockLevel]
) -> ItemView:
    return await menu_editor.set_stock(item_id, data.stock)


# -- the restaurant's rules ---------------------------------------------------------------------


@get("/restaurant", summary="Settings, pause, opening hours, slot capacity and delivery zones")
async def get_restaurant(rules_editor: NamedDependency[RulesEditor]) -> RestaurantView:
    return await rules_editor.restaurant()


@put("/settings", summary="Tax rate (basis points), slot length and lead time (minutes)")
async def update_settings(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[RestaurantSettings]
) -> RestaurantView:
    return await rules_editor.update_settings(data)


@put("/details", summary="The restaurant's name, address and phone (shown on the menu page)")
async def update_details(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[RestaurantDetails]
) -> RestaurantView:
    return await rules_editor.update_details(data)


@put(
    "/hours",
    summary="Replace the week's opening hours",
    description="Minutes after local midnight; 1440 closes at midnight. A day without periods "
    "is closed. Periods of a day must not overlap.",
)
async def replace_hours(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[OpeningHours]
) -> RestaurantView:
    return await rules_editor.replace_hours(data)


@put(
    "/special-days",
    summary="Replace the special days: holidays (closed, with a message) and other hours",
    description="Each date's hours replace the week's that day, for pickup and delivery.",
)
async def replace_special_days(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[SpecialDays]
) -> RestaurantView:
    return await rules_editor.replace_special_days(data)


@put("/capacity/{fulfilment:str}", summary="Orders per slot, for pickup or delivery")
async def set_capacity(
    rules_editor: NamedDependency[RulesEditor], fulfilment: FromPath[str], data: JSONBody[Capacity]
) -> RestaurantView:
    if fulfilment == "pickup":
        return await rules_editor.set_capacity("pickup", data)
    if fulfilment == "delivery":
        return await rules_editor.set_capacity("delivery", data)
    raise NotFound(f"Slot capacity is set for pickup or delivery, not {fulfilment!r}.")


@get("/zones", summary="Delivery zones")
async def list_zones(rules_editor: NamedDependency[RulesEditor]) -> list[ZoneView]:
    return await rules_editor.zones()


@post("/zones", summary="Add a delivery zone")
async def create_zone(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[ZoneCreate]
) -> ZoneView:
    return await rules_editor.create_zone(data)


@patch("/zones/{zone_id:int}", summary="Change a delivery zone (only the fields sent)")
async def update_zone(
    rules_editor: NamedDependency[RulesEditor], zone_id: FromPath[int], data: JSONBody[ZonePatch]
) -> ZoneView:
    return await rules_editor.update_zone(zone_id, data)


@delete("/zones/{zone_id:int}", summary="Remove a delivery zone no order refers to")
async def delete_zone(rules_editor: NamedDependency[RulesEditor], zone_id: FromPath[int]) -> None:
    await rules_editor.delete_zone(zone_id)


@post("/pause", summary="Pause or resume online ordering, with a message", status_code=200)
async def pause_ordering(
    rules_editor: NamedDependency[RulesEditor], data: JSONBody[Pause]
) -> RestaurantView:
    return await rules_editor.pause(data)


def handle_invalid_value(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """A body value outside the schema's bounds: 422 naming the field. Bodies that are not the
    expected object at all stay 400 (the app-wide handler)."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    first: dict[str, Any] = errors[0] if errors and isinstance(errors[0], dict) else {}
    key, message = first.get("key", ""), str(first.get("message", "invalid value"))
    if first.get("source") != "body":
        return handle_validation(request, exc)
    if key == "data":
        missing = MISSING_FIELD.search(message)
        if missing is None:
            return handle_validation(request, exc)
        key = missing.group(1)
    return problem_response(request, InvalidValue(f"{message} (at {key})", field=key))


router = Router(
    path="/api/manage",
    route_handlers=[
        get_managed_menu,
        list_categories,
        create_category,
        update_category,
        delete_category,
        create_item,
        update_item,
        replace_modifiers,
        set_availability,
        set_stock,
        get_restaurant,
        update_settings,
        update_details,
        replace_hours,
        replace_special_days,
        set_capacity,
        list_zones,
        create_zone,
        update_zone,
        delete_zone,
        pause_ordering,
    ],
    guards=[require_role("manager")],
    tags=["manage"],
    exception_handlers={ValidationException: handle_invalid_value},
)

ROUTES: list[ControllerRouterHandler] = [router, refunds.router]
