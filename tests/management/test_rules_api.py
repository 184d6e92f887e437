"""The restaurant's rules through the manager's API: settings, opening hours, slot capacity,
delivery zones and the pause switch, each checked by what customers then get."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import assert_problem, snapshot, wait_for_menu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/manage"
LOCAL = ZoneInfo("America/New_York")  # the test settings' default timezone
ADDRESS = {"line1": "1 High St", "postcode": "XY9 1AA", "city": "Town"}


async def test_restaurant_shows_every_rule(client: Client, menu: FixtureMenu) -> None:
    response = await client.get(f"{API}/restaurant", headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    rules = response.json()
    assert (rules["name"], rules["tax_rate_bp"], rules["slot_minutes"]) == (
        "Test Kitchen",
        1000,
        15,
    )
    assert rules["ordering_paused"] is False
    assert rules["hours"][0] == {
        "weekday": 0,
        "opens_minute": 0,
        "closes_minute": 1440,
        "fulfilment": "both",
    }
    assert rules["special_days"] == []
    assert len(rules["hours"]) == 7
    assert rules["capacity"] == {"pickup": 10, "delivery": 5}
    assert [(z["name"], z["postcode_prefixes"]) for z in rules["zones"]] == [("Centre", ["AB1"])]
    zones = await client.get(f"{API}/zones", headers=STAFF_HEADERS)
    assert zones.json() == rules["zones"]


async def test_settings_change_the_next_checkout(client: Client, menu: FixtureMenu) -> None:
    body = {"tax_rate_bp": 2000, "slot_minutes": 30, "lead_minutes": 0}
    response = await client.put(f"{API}/settings", json=body, headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in body} == body
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.json()["totals"]["tax_cents"] == 80  # 20 % of 400
    slots = (await client.get("/api/slots")).json()["slots"]
    assert all(datetime.fromisoformat(s["start"]).minute in (0, 30) for s in slots)


async def test_settings_problems_write_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    good = {"tax_rate_bp": 800, "slot_minutes": 15, "lead_minutes": 20}
    before = await snapshot(conn)
    for change, field in [
        ({"tax_rate_bp": 5001}, "tax_rate_bp"),
        ({"tax_rate_bp": -1}, "tax_rate_bp"),
        ({"slot_minutes": 4}, "slot_minutes"),
        ({"slot_minutes": 241}, "slot_minutes"),
        ({"lead_minutes": 721}, "lead_minutes"),
    ]:
        response = await client.put(f"{API}/settings", json=good | change, headers=STAFF_HEADERS)
        assert assert_problem(response, 422, "invalid-value")["field"] == field
    missing = await client.put(f"{API}/settings", json={"tax_rate_bp": 1}, headers=STAFF_HEADERS)
    assert assert_problem(missing, 422, "invalid-value")["field"] == "slot_minutes"
    assert await snapshot(conn) == before


def local_minute(slot: dict[str, Any], key: str) -> int:
    """The slot's start or end as minutes after local midnight (an end at midnight is 1440)."""
    moment = datetime.fromisoformat(slot[key]).astimezone(LOCAL)
    return moment.hour * 60 + moment.minute


async def test_opening_hours_change_the_slots_offered(client: Client, menu: FixtureMenu) -> None:
    assert (await client.get("/api/slots")).json()["slots"]
    closed = await client.put(f"{API}/hours", json={"periods": []}, headers=STAFF_HEADERS)
    assert closed.status_code == 200, closed.text
    assert closed.json()["hours"] == []
    assert (await client.get("/api/slots")).json()["slots"] == []

    lunch = [
        {"weekday": day, "opens_minute": 720, "closes_minute": 780, "fulfilment": "both"}
        for day in range(7)
    ]
    response = await client.put(
        f"{API}/hours", json={"periods": list(reversed(lunch))}, headers=STAFF_HEADERS
    )
    assert response.json()["hours"] == lunch  # stored and shown in week order
    slots = (await client.get("/api/slots")).json()["slots"]
    assert len(slots) >= 4  # two days ahead: at least two lunches of four 15-minute slots
    for slot in slots:
        assert 720 <= local_minute(slot, "start") < local_minute(slot, "end") <= 780, slot


async def test_opening_hours_problems_write_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await snapshot(conn)
    monday = {"weekday": 0, "opens_minute": 600, "closes_minute": 900}
    cases: list[tuple[list[dict[str, int]], str, str]] = [
        ([monday | {"closes_minute": 600}], "invalid-value", "periods[0].closes_minute"),
        (
            [monday, monday | {"opens_minute": 840, "closes_minute": 1000}],
            "overlapping-hours",
            "periods[1]",
        ),
        (
            [monday | {"opens_minute": 840, "closes_minute": 1000}, monday],
            "overlapping-hours",
            "periods[0]",
        ),
        ([monday, monday], "overlapping-hours", "periods[1]"),
        ([monday | {"weekday": 7}], "invalid-value", "periods[0].weekday"),
        ([monday | {"closes_minute": 1441}], "invalid-value", "periods[0].closes_minute"),
        ([monday | {"opens_minute": -1}], "invalid-value", "periods[0].opens_minute"),
    ]
    for periods, slug, field in cases:
        response = await client.put(
            f"{API}/hours", json={"periods": periods}, headers=STAFF_HEADERS
        )
        assert assert_problem(response, 422, slug)["field"] == field, periods
    touching = [monday, monday | {"opens_minute": 900, "closes_minute": 1440}]
    assert await snapshot(conn) == before
    accepted = await client.put(f"{API}/hours", json={"periods": touching}, headers=STAFF_HEADERS)
    assert accepted.status_code == 200, accepted.text  # back to back is not an overlap


async def test_slot_capacity_per_fulfilment(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    full = await client.put(f"{API}/capacity/pickup", json={"max_orders": 0}, headers=STAFF_HEADERS)
    assert full.status_code == 200, full.text
    assert full.json()["capacity"] == {"pickup": 0, "delivery": 5}
    slots = (await client.get("/api/slots")).json()["slots"]
    assert slots
    assert not any(s["available"] for s in slots)
    refused = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert_problem(refused, 409, "slot-full")

    await client.put(f"{API}/capacity/pickup", json={"max_orders": 3}, headers=STAFF_HEADERS)
    assert {s["capacity"] for s in (await client.get("/api/slots")).json()["slots"]} == {3}
    delivery = (await client.get("/api/slots?fulfilment=delivery")).json()["slots"]
    assert {s["capacity"] for s in delivery} == {5}

    before = await snapshot(conn)
    unknown = await client.put(
        f"{API}/capacity/curbside", json={"max_orders": 1}, headers=STAFF_HEADERS
    )
    assert_problem(unknown, 404, "not-found")
    for value in (-1, 10_001, 2.5, "three"):
        bad = await client.put(
            f"{API}/capacity/pickup", json={"max_orders": value}, headers=STAFF_HEADERS
        )
        assert assert_problem(bad, 422, "invalid-value")["field"] == "max_orders"
    assert await snapshot(conn) == before


async def test_delivery_zones_are_added_changed_and_removed(
    client: Client, menu: FixtureMenu
) -> None:
    body = {"name": "Outskirts", "postcode_prefixes": ["xy9", " XY 8"], "fee_cents": 450}
    created = await client.post(f"{API}/zones", json=body, headers=STAFF_HEADERS)
    assert created.status_code == 201, created.text
    zone = created.json()
    assert zone == {
        "id": zone["id"],
        "name": "Outskirts",
        "postcode_prefixes": ["XY9", "XY8"],
        "fee_cents": 450,
        "min_order_cents": 0,
    }
    cake = [{"item_id": menu.cake}]
    order = await client.post(
        "/api/orders", json=checkout_body(cake, fulfilment="delivery", address=ADDRESS)
    )
    assert order.status_code == 201, order.text
    assert order.json()["totals"]["delivery_fee_cents"] == 450

    changed = await client.patch(
        f"{API}/zones/{zone['id']}", json={"min_order_cents": 1000}, headers=STAFF_HEADERS
    )
    assert changed.json() == {**zone, "min_order_cents": 1000}
    below = await client.post(
        "/api/orders", json=checkout_body(cake, fulfilment="delivery", address=ADDRESS)
    )
    assert_problem(below, 422, "below-minimum-order")

    spare = await client.post(
        f"{API}/zones",
        json={"name": "Spare", "postcode_prefixes": ["ZZ"], "fee_cents": 0},
        headers=STAFF_HEADERS,
    )
    removed = await client.delete(f"{API}/zones/{spare.json()['id']}", headers=STAFF_HEADERS)
    assert removed.status_code == 204
    names = [z["name"] for z in (await client.get(f"{API}/zones", headers=STAFF_HEADERS)).json()]
    assert names == ["Centre", "Outskirts"]


async def test_zone_problems_write_nothing(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    centre = (await client.get(f"{API}/zones", headers=STAFF_HEADERS)).json()[0]["id"]
    placed = await client.post(
        "/api/orders",
        json=checkout_body(
            [{"item_id": menu.pizza, "quantity": 2, "option_ids": [menu.size_small]}],
            fulfilment="delivery",
            address=ADDRESS | {"postcode": "AB1 2CD"},
        ),
    )
    assert placed.status_code == 201, placed.text
    before = await snapshot(conn)
    good = {"name": "North", "postcode_prefixes": ["N1"], "fee_cents": 100}
    cases: list[tuple[str, str, Any, int, str, str | None]] = [
        ("POST", "/zones", good | {"name": "Centre"}, 409, "name-taken", "name"),
        ("POST", "/zones", good | {"name": "centre"}, 409, "name-taken", "name"),
        (
            "POST",
            "/zones",
            good | {"postcode_prefixes": ["ab 1"]},
            409,
            "postcode-prefix-taken",
            "postcode_prefixes",
        ),
        (
            "POST",
            "/zones",
            good | {"postcode_prefixes": []},
            422,
            "invalid-value",
            "postcode_prefixes",
        ),
        (
            "POST",
            "/zones",
            good | {"postcode_prefixes": ["N*"]},
            422,
            "invalid-value",
            "postcode_prefixes[0]",
        ),
        ("POST", "/zones", good | {"fee_cents": -1}, 422, "invalid-value", "fee_cents"),
        ("POST", "/zones", good | {"fee_cents": 100_001}, 422, "invalid-value", "fee_cents"),
        (
            "POST",
            "/zones",
            good | {"min_order_cents": 1_000_001},
            422,
            "invalid-value",
            "min_order_cents",
        ),
        (
            "POST",
            "/zones",
            {"name": "North", "fee_cents": 1},
            422,
            "invalid-value",
            "postcode_prefixes",
        ),
        ("PATCH", f"/zones/{centre}", {"fee_cents": -5}, 422, "invalid-value", "fee_cents"),
        ("PATCH", "/zones/999", {"fee_cents": 5}, 404, "zone-not-found", None),
        ("DELETE", "/zones/999", None, 404, "zone-not-found", None),
        ("DELETE", f"/zones/{centre}", None, 409, "zone-in-use", None),
    ]
    for method, path, body, status, slug, field in cases:
        response = await client.request(method, API + path, json=body, headers=STAFF_HEADERS)
        problem = assert_problem(response, status, slug)
        assert problem.get("field") == field, (body, problem)
    assert await snapshot(conn) == before


async def test_pausing_stops_checkout_with_the_managers_message(
    client: Client, menu: FixtureMenu
) -> None:
    message = "Kitchen closed for a private event until 8 pm."
    paused = await client.post(
        f"{API}/pause", json={"paused": True, "message": f" {message} "}, headers=STAFF_HEADERS
    )
    assert paused.status_code == 200, paused.text
    assert (paused.json()["ordering_paused"], paused.json()["pause_message"]) == (True, message)
    shown = await wait_for_menu(client, lambda m: m["ordering_paused"] is True)
    assert shown["pause_message"] == message
    refused = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert assert_problem(refused, 409, "ordering-paused")["detail"] == message
    assert not any(s["available"] for s in (await client.get("/api/slots")).json()["slots"])

    resumed = await client.post(f"{API}/pause", json={"paused": False}, headers=STAFF_HEADERS)
    assert resumed.json()["ordering_paused"] is False
    await wait_for_menu(client, lambda m: m["ordering_paused"] is False)
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201, placed.text


async def test_pause_problems_write_nothing(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    before = await snapshot(conn)
    for body, field in [
        ({"paused": True, "message": "x" * 301}, "message"),
        ({"paused": "yes"}, "paused"),
        ({"message": "closed"}, "paused"),
    ]:
        response = await client.post(f"{API}/pause", json=body, headers=STAFF_HEADERS)
        assert assert_problem(response, 422, "invalid-value")["field"] == field
    assert await snapshot(conn) == before


async def test_rules_need_a_restaurant(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    await conn.execute("DELETE FROM restaurant")
    response = await client.post(f"{API}/pause", json={"paused": True}, headers=STAFF_HEADERS)
    assert_problem(response, 409, "restaurant-not-set-up")
    assert_problem(
        await client.get(f"{API}/restaurant", headers=STAFF_HEADERS), 409, "restaurant-not-set-up"
    )
