"""The manager's menu API against PostgreSQL: every change lands whole, shows in the customers'
menu (the cache reloads through NOTIFY), and every refusal leaves nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import (
    assert_problem,
    find_item,
    item_in_menu,
    snapshot,
    wait_for_menu,
)
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/manage"


async def test_managed_menu_shows_switches_stock_and_positions(
    client: Client, menu: FixtureMenu
) -> None:
    response = await client.get(f"{API}/menu", headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    [mains] = response.json()["categories"]
    assert mains["name"] == "Mains"
    items = {i["name"]: i for i in mains["items"]}
    assert items["Soup"]["stock"] == 3
    assert items["Soup"]["orderable"] is True
    assert items["Salad"]["available"] is False
    assert items["Salad"]["orderable"] is False
    assert items["Pizza"]["stock"] is None
    groups = items["Pizza"]["modifier_groups"]
    assert [(g["name"], g["position"]) for g in groups] == [("Size", 0), ("Extras", 1)]
    assert [o["id"] for o in groups[0]["options"]] == [menu.size_small, menu.size_large]


async def test_categories_are_created_renamed_and_removed(
    client: Client, menu: FixtureMenu
) -> None:
    created = await client.post(
        f"{API}/categories", json={"name": " Desserts ", "position": 5}, headers=STAFF_HEADERS
    )
    assert created.status_code == 201, created.text
    category = created.json()
    assert category == {"id": category["id"], "name": "Desserts", "position": 5, "item_count": 0}
    await wait_for_menu(
        client, lambda m: [c["name"] for c in m["categories"]] == ["Mains", "Desserts"]
    )

    renamed = await client.patch(
        f"{API}/categories/{category['id']}", json={"name": "Sweets"}, headers=STAFF_HEADERS
    )
    assert renamed.json() == {**category, "name": "Sweets"}
    listed = await client.get(f"{API}/categories", headers=STAFF_HEADERS)
    assert [(c["name"], c["item_count"]) for c in listed.json()] == [("Mains", 4), ("Sweets", 0)]
    await wait_for_menu(client, lambda m: m["categories"][-1]["name"] == "Sweets")

    removed = await client.delete(f"{API}/categories/{category['id']}", headers=STAFF_HEADERS)
    assert removed.status_code == 204
    await wait_for_menu(client, lambda m: [c["name"] for c in m["categories"]] == ["Mains"])


async def test_category_problems_write_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await snapshot(conn)
    mains = (await client.get(f"{API}/categories", headers=STAFF_HEADERS)).json()[0]["id"]
    cases: list[tuple[str, str, Any, int, str, str | None]] = [
        ("POST", "/categories", {"name": "Mains"}, 409, "name-taken", "name"),
        ("POST", "/categories", {"name": "   "}, 422, "invalid-value", "name"),
        ("POST", "/categories", {"name": "x" * 81}, 422, "invalid-value", "name"),
        ("POST", "/categories", {"position": 1}, 422, "invalid-value", "name"),
        ("POST", "/categories", {"name": "A", "position": -1}, 422, "invalid-value", "position"),
        ("PATCH", "/categories/999", {"name": "Other"}, 404, "category-not-found", None),
        ("DELETE", f"/categories/{mains}", None, 409, "category-not-empty", None),
        ("DELETE", "/categories/999", None, 404, "category-not-found", None),
    ]
    for method, path, body, status, slug, field in cases:
        response = await client.request(method, API + path, json=body, headers=STAFF_HEADERS)
        problem = assert_problem(response, status, slug)
        assert problem.get("field") == field, problem
    malformed = await client.post(
        f"{API}/categories",
        content=b"{not json",
        headers={**STAFF_HEADERS, "Content-Type": "application/json"},
    )
    assert_problem(malformed, 400, "bad-request")
    assert await snapshot(conn) == before


async def test_items_are_created_and_edited(client: Client, menu: FixtureMenu) -> None:
    categories = (await client.get(f"{API}/categories", headers=STAFF_HEADERS)).json()
    body = {
        "category_id": categories[0]["id"],
        "name": "Tiramisu",
        "description": "Mascarpone, coffee",
        "price_cents": 650,
        "allergens": ["milk", " eggs ", "milk"],
        "dietary": ["vegetarian"],
        "stock": 12,
        "position": 9,
    }
    created = await client.post(f"{API}/items", json=body, headers=STAFF_HEADERS)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["allergens"] == ["milk", "eggs"]
    assert (item["stock"], item["available"], item["orderable"]) == (12, True, True)
    public = await wait_for_menu(client, lambda m: find_item(m, item["id"]) is not None)
    assert item_in_menu(public, item["id"])["price_cents"] == 650

    priced = await client.patch(
        f"{API}/items/{item['id']}", json={"price_cents": 700}, headers=STAFF_HEADERS
    )
    assert priced.status_code == 200, priced.text
    assert priced.json() == {**item, "price_cents": 700}
    await wait_for_menu(client, lambda m: item_in_menu(m, item["id"])["price_cents"] == 700)

    untracked = await client.patch(
        f"{API}/items/{item['id']}",
        json={"stock": None, "name": "Tiramisu classico"},
        headers=STAFF_HEADERS,
    )
    assert (untracked.json()["stock"], untracked.json()["name"]) == (None, "Tiramisu classico")
    assert untracked.json()["price_cents"] == 700  # fields not sent stay as they were

    desserts = await client.post(
        f"{API}/categories", json={"name": "Desserts"}, headers=STAFF_HEADERS
    )
    moved = await client.patch(
        f"{API}/items/{item['id']}",
        json={"category_id": desserts.json()["id"]},
        headers=STAFF_HEADERS,
    )
    assert moved.json()["category_id"] == desserts.json()["id"]
    public = await wait_for_menu(
        client, lambda m: item_in_menu(m, item["id"])["category_id"] == desserts.json()["id"]
    )
    assert [c["name"] for c in public["categories"]] == ["Mains", "Desserts"]
    assert [i["name"] for i in public["categories"][1]["items"]] == ["Tiramisu classico"]


async def test_item_problems_write_nothing(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    mains = (await client.get(f"{API}/categories", headers=STAFF_HEADERS)).json()[0]["id"]
    good = {"category_id": mains, "name": "Tart", "price_cents": 500}
    before = await snapshot(conn)
    cases: list[tuple[str, str, Any, int, str, str | None]] = [
        ("POST", "/items", {**good, "price_cents": -1}, 422, "invalid-value", "price_cents"),
        ("POST", "/items", {**good, "price_cents": 1_000_001}, 422, "invalid-value", "price_cents"),
        ("POST", "/items", {**good, "price_cents": 5.5}, 422, "invalid-value", "price_cents"),
        ("POST", "/items", {**good, "stock": -1}, 422, "invalid-value", "stock"),
        ("POST", "/items", {**good, "name": ""}, 422, "invalid-value", "name"),
        ("POST", "/items", {**good, "allergens": [" "]}, 422, "invalid-value", "allergens[0]"),
        ("POST", "/items", {**good, "category_id": 999}, 422, "unknown-reference", "category_id"),
        ("POST", "/items", {**good, "category_id": 2**64}, 422, "invalid-value", "category_id"),
        ("POST", "/items", {"name": "Tart", "price_cents": 1}, 422, "invalid-value", "category_id"),
        ("PATCH", f"/items/{menu.cake}", {"price_cents": -5}, 422, "invalid-value", "price_cents"),
        (
            "PATCH",
            f"/items/{menu.cake}",
            {"category_id": 999},
            422,
            "unknown-reference",
            "category_id",
        ),
        ("PATCH", f"/items/{menu.cake}", {"name": "x" * 121}, 422, "invalid-value", "name"),
        ("PATCH", "/items/999", {"price_cents": 100}, 404, "item-not-found", None),
        ("PATCH", f"/items/{2**70}", {"price_cents": 100}, 404, "item-not-found", None),
        ("POST", "/items/999/availability", {"available": False}, 404, "item-not-found", None),
        ("POST", f"/items/{menu.cake}/availability", {}, 422, "invalid-value", "available"),
        ("POST", "/items/999/stock", {"stock": 1}, 404, "item-not-found", None),
        ("POST", f"/items/{menu.cake}/stock", {"stock": -1}, 422, "invalid-value", "stock"),
        ("POST", f"/items/{menu.cake}/stock", {"stock": 10**7}, 422, "invalid-value", "stock"),
    ]
    for method, path, body, status, slug, field in cases:
        response = await client.request(method, API + path, json=body, headers=STAFF_HEADERS)
        problem = assert_problem(response, status, slug)
        assert problem.get("field") == field, (path, body, problem)
    assert await snapshot(conn) == before


async def test_an_86ed_item_is_unavailable_to_customers(client: Client, menu: FixtureMenu) -> None:
    off = await client.post(
        f"{API}/items/{menu.cake}/availability", json={"available": False}, headers=STAFF_HEADERS
    )
    assert off.status_code == 200, off.text
    assert (off.json()["available"], off.json()["orderable"]) == (False, False)
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.cake)["available"] is False)
    refused = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert_problem(refused, 409, "item-unavailable")

    on = await client.post(
        f"{API}/items/{menu.cake}/availability", json={"available": True}, headers=STAFF_HEADERS
    )
    assert on.json()["orderable"] is True
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.cake)["available"] is True)
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201, placed.text


async def test_stock_sells_out_and_stops_being_counted(client: Client, menu: FixtureMenu) -> None:
    async def set_stock(stock: int | None) -> dict[str, Any]:
        response = await client.post(
            f"{API}/items/{menu.soup}/stock", json={"stock": stock}, headers=STAFF_HEADERS
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    sold_out = await set_stock(0)
    assert (sold_out["stock"], sold_out["available"], sold_out["orderable"]) == (0, True, False)
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.soup)["available"] is False)
    soup = [{"item_id": menu.soup, "quantity": 2}]
    assert_problem(
        await client.post("/api/orders", json=checkout_body(soup)), 409, "item-unavailable"
    )

    await set_stock(1)
    await wait_for_menu(client, lambda m: item_in_menu(m, menu.soup)["available"] is True)
    assert_problem(
        await client.post("/api/orders", json=checkout_body(soup)), 409, "item-unavailable"
    )

    assert (await set_stock(None))["stock"] is None
    placed = await client.post("/api/orders", json=checkout_body(soup))
    assert placed.status_code == 201, placed.text
    stored = await client.get(f"{API}/menu", headers=STAFF_HEADERS)
    assert item_in_menu(stored.json(), menu.soup)["stock"] is None


def pizza_groups(menu: FixtureMenu, *, large_delta: int = 300) -> list[dict[str, Any]]:
    """The fixture pizza's Size group as stored (ids kept), without Extras."""
    return [
        {
            "id": None,
            "name": "Size",
            "min_choices": 1,
            "max_choices": 1,
            "options": [
                {"id": menu.size_small, "name": "Small", "price_delta_cents": 0},
                {"id": menu.size_large, "name": "Large", "price_delta_cents": large_delta},
            ],
        }
    ]


async def stored_group_ids(client: Client, item_id: int) -> list[int]:
    stored = (await client.get(f"{API}/menu", headers=STAFF_HEADERS)).json()
    return [g["id"] for g in item_in_menu(stored, item_id)["modifier_groups"]]


async def test_modifier_groups_are_replaced(client: Client, menu: FixtureMenu) -> None:
    size_id, _extras_id = await stored_group_ids(client, menu.pizza)
    groups = pizza_groups(menu, large_delta=400)
    groups[0]["id"] = size_id
    groups.append(
        {
            "name": "Crust",
            "min_choices": 0,
            "max_choices": 1,
            "options": [{"name": "Thin"}, {"name": "Stuffed", "price_delta_cents": 250}],
        }
    )
    response = await client.put(
        f"{API}/items/{menu.pizza}/modifiers", json={"groups": groups}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
    stored = response.json()["modifier_groups"]
    assert [g["name"] for g in stored] == ["Size", "Crust"]
    assert stored[0]["id"] == size_id  # kept, not replaced: past orders keep their options
    assert [(o["id"], o["price_delta_cents"]) for o in stored[0]["options"]] == [
        (menu.size_small, 0),
        (menu.size_large, 400),
    ]
    assert [(o["name"], o["position"]) for o in stored[1]["options"]] == [
        ("Thin", 0),
        ("Stuffed", 1),
    ]

    public = await wait_for_menu(
        client,
        lambda m: (
            [g["name"] for g in item_in_menu(m, menu.pizza)["modifier_groups"]] == ["Size", "Crust"]
        ),
    )
    public_groups = item_in_menu(public, menu.pizza)["modifier_groups"]
    assert public_groups[1]["name"] == "Crust"
    stuffed = stored[1]["options"][1]["id"]
    line = {"item_id": menu.pizza, "option_ids": [menu.size_large, stuffed]}
    placed = await client.post("/api/orders", json=checkout_body([line]))
    assert placed.status_code == 201, placed.text
    assert placed.json()["totals"]["subtotal_cents"] == 1000 + 400 + 250


async def test_an_option_switched_off_is_refused_at_checkout(
    client: Client, menu: FixtureMenu
) -> None:
    size_id, extras_id = await stored_group_ids(client, menu.pizza)
    groups = pizza_groups(menu)
    groups[0]["id"] = size_id
    groups.append(
        {
            "id": extras_id,
            "name": "Extras",
            "min_choices": 0,
            "max_choices": 2,
            "options": [
                {
                    "id": menu.extra_cheese,
                    "name": "Cheese",
                    "price_delta_cents": 100,
                    "available": False,
                },
                {"id": menu.extra_olives, "name": "Olives", "price_delta_cents": 50},
            ],
        }
    )
    response = await client.put(
        f"{API}/items/{menu.pizza}/modifiers", json={"groups": groups}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text

    def cheese_off(m: dict[str, Any]) -> bool:
        extras = item_in_menu(m, menu.pizza)["modifier_groups"][1]
        return [o["available"] for o in extras["options"]] == [False, True]

    await wait_for_menu(client, cheese_off)
    line = {"item_id": menu.pizza, "option_ids": [menu.size_small, menu.extra_cheese]}
    refused = await client.post("/api/orders", json=checkout_body([line]))
    assert_problem(refused, 409, "item-unavailable")


async def test_modifier_problems_write_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    # An order with Large and Cheese: those options are part of its history from now on.
    line = {"item_id": menu.pizza, "option_ids": [menu.size_large, menu.extra_cheese]}
    placed = await client.post("/api/orders", json=checkout_body([line]))
    assert placed.status_code == 201, placed.text
    size_id, extras_id = await stored_group_ids(client, menu.pizza)
    size = pizza_groups(menu)[0] | {"id": size_id}
    before = await snapshot(conn)

    def with_size(**changes: Any) -> dict[str, Any]:
        return {"groups": [size | changes]}

    option = {"name": "Huge", "price_delta_cents": 100_001}
    cases: list[tuple[int, Any, int, str, str | None]] = [
        (menu.pizza, {"groups": [size]}, 409, "option-in-use", None),  # drops Extras
        (
            menu.pizza,
            with_size(min_choices=2, max_choices=1),
            422,
            "invalid-value",
            "groups[0].max_choices",
        ),
        (
            menu.pizza,
            with_size(min_choices=3, max_choices=3),
            422,
            "invalid-value",
            "groups[0].min_choices",
        ),
        (menu.pizza, with_size(id=extras_id + 100), 422, "unknown-reference", "groups[0].id"),
        (
            menu.pizza,
            with_size(options=[{"id": menu.extra_cheese, "name": "Cheese"}]),
            422,
            "unknown-reference",
            "groups[0].options[0].id",
        ),
        (
            menu.pizza,
            with_size(options=[option]),
            422,
            "invalid-value",
            "groups[0].options[0].price_delta_cents",
        ),
        (menu.pizza, with_size(options=[]), 422, "invalid-value", "groups[0].options"),
        (menu.pizza, with_size(name=" "), 422, "invalid-value", "groups[0].name"),
        (999, {"groups": []}, 404, "item-not-found", None),
    ]
    for item_id, body, status, slug, field in cases:
        response = await client.put(
            f"{API}/items/{item_id}/modifiers", json=body, headers=STAFF_HEADERS
        )
        problem = assert_problem(response, status, slug)
        assert problem.get("field") == field, (body, problem)
        if slug == "option-in-use":
            assert problem["option_ids"] == [menu.extra_cheese]
    assert await snapshot(conn) == before
