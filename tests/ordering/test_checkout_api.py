"""POST /api/orders end to end against PostgreSQL: success, every error, nothing half-written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gourmet.config import Settings
from gourmet.db.types import Conn
from gourmet.management import repository as management_repo
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def counts(conn: Conn) -> dict[str, Any]:
    row = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT count(*) FROM order_line) AS lines,"
            " (SELECT coalesce(sum(booked), 0) FROM slot_booking) AS booked,"
            " (SELECT count(*) FROM checkout_request) AS keys,"
            " (SELECT count(*) FROM order_status_history) AS history,"
            " (SELECT stock FROM item WHERE name = 'Soup') AS soup_stock"
        )
    ).fetchone()
    assert row is not None
    return dict(row)


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["detail"]
    return body


async def test_checkout_prices_on_the_server_and_stores_everything(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    lines = [
        {
            "item_id": menu.pizza,
            "quantity": 2,
            "option_ids": [menu.size_large, menu.extra_cheese],
            "unit_price_cents": 1,
            "price_cents": 1,
        },
        {"item_id": menu.soup, "quantity": 1, "notes": "extra hot"},
    ]
    response = await client.post("/api/orders", json=checkout_body(lines, notes="ring twice"))
    assert response.status_code == 201, response.text
    order = response.json()
    # (1000 + 300 + 100) x 2 + 500 = 3300; tax 10% = 330.
    assert order["totals"] == {
        "subtotal_cents": 3300,
        "delivery_fee_cents": 0,
        "tax_cents": 330,
        "total_cents": 3630,
        "tip_cents": 0,
    }
    assert order["status"] == "received"
    assert len(order["token"]) >= 24
    assert response.headers["location"] == f"/api/orders/{order['token']}"
    assert [o["name"] for o in order["lines"][0]["options"]] == ["Large", "Cheese"]
    assert order["lines"][1]["notes"] == "extra hot"
    assert order["history"][0]["status"] == "received"
    assert await counts(conn) == {
        "orders": 1,
        "lines": 2,
        "booked": 1,
        "keys": 0,
        "history": 1,
        "soup_stock": 2,
    }
    tracked = await client.get(f"/api/orders/{order['token']}")
    assert tracked.status_code == 200
    assert tracked.json() == order


async def test_delivery_adds_the_zone_fee(client: Client, menu: FixtureMenu) -> None:
    lines = [{"item_id": menu.pizza, "quantity": 2, "option_ids": [menu.size_small]}]
    body = checkout_body(
        lines, fulfilment="delivery", address={"line1": "1 High St", "postcode": "ab1 2cd"}
    )
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["totals"] == {
        "subtotal_cents": 2000,
        "delivery_fee_cents": 300,
        "tax_cents": 230,
        "total_cents": 2530,
        "tip_cents": 0,
    }
    assert order["address"]["postcode"] == "AB12CD"


async def test_scheduled_slot_is_kept(client: Client, menu: FixtureMenu) -> None:
    slots = (await client.get("/api/slots", params={"fulfilment": "pickup"})).json()["slots"]
    chosen = slots[3]["start"]
    body = checkout_body([{"item_id": menu.cake}], slot=chosen)
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["slot_start"] == chosen
    assert response.json()["asap"] is False
    after = (await client.get("/api/slots", params={"fulfilment": "pickup"})).json()["slots"]
    assert after[3]["remaining"] == slots[3]["remaining"] - 1


def _lines(menu: FixtureMenu, **overrides: Any) -> list[dict[str, Any]]:
    return [{"item_id": menu.pizza, "quantity": 1, "option_ids": [menu.size_small], **overrides}]


@pytest.mark.parametrize(
    ("make_body", "status", "slug"),
    [
        (lambda m: checkout_body([{"item_id": 9999}]), 422, "unknown-item"),
        (lambda m: checkout_body([{"item_id": m.salad}]), 409, "item-unavailable"),
        (lambda m: checkout_body(_lines(m, option_ids=[])), 422, "option-rules"),
        (
            lambda m: checkout_body(_lines(m, option_ids=[m.size_small, m.size_large])),
            422,
            "option-rules",
        ),
        (lambda m: checkout_body(_lines(m, quantity=0)), 422, "quantity-out-of-range"),
        (lambda m: checkout_body(_lines(m, quantity=500)), 422, "quantity-out-of-range"),
        (  # 3 lines of 40: each within its own cap, 120 items in all
            lambda m: checkout_body([{"item_id": m.cake, "quantity": 40}] * 3),
            422,
            "quantity-out-of-range",
        ),
        (lambda m: checkout_body([{"item_id": m.soup, "quantity": 4}]), 409, "item-unavailable"),
        (lambda m: checkout_body([]), 422, "invalid-cart"),
        (lambda m: checkout_body(_lines(m), fulfilment="delivery"), 422, "address-required"),
        (
            lambda m: checkout_body(
                _lines(m), fulfilment="delivery", address={"line1": "x", "postcode": "ZZ9"}
            ),
            422,
            "outside-delivery-zone",
        ),
        (
            lambda m: checkout_body(
                _lines(m), fulfilment="delivery", address={"line1": "x", "postcode": "AB1"}
            ),
            422,
            "below-minimum-order",
        ),
        (
            lambda m: checkout_body(_lines(m), slot="2020-01-01T12:00:00Z"),
            422,
            "outside-opening-hours",
        ),
        (  # year 0 once in UTC: beyond what a datetime can hold
            lambda m: checkout_body(_lines(m), slot="0001-01-01T00:00:00+01:00"),
            422,
            "outside-opening-hours",
        ),
        (
            lambda m: checkout_body(_lines(m), slot="9999-12-31T23:00:00-05:00"),
            422,
            "outside-opening-hours",
        ),
        (lambda m: checkout_body(_lines(m), fulfilment="drone"), 400, "bad-request"),
        (lambda m: {"fulfilment": "pickup", "lines": []}, 400, "bad-request"),
    ],
)
async def test_rejected_checkout_says_why_and_writes_nothing(
    client: Client, menu: FixtureMenu, conn: Conn, make_body: Any, status: int, slug: str
) -> None:
    before = await counts(conn)
    response = await client.post(
        "/api/orders", json=make_body(menu), headers={"Idempotency-Key": "k-rejected"}
    )
    assert_problem(response, status, slug)
    assert await counts(conn) == before


async def test_misaligned_slot_offers_the_next_free_one(client: Client, menu: FixtureMenu) -> None:
    slots = (await client.get("/api/slots")).json()["slots"]
    first = datetime.fromisoformat(slots[0]["start"])
    off_boundary = (first + timedelta(minutes=7)).isoformat()
    body = assert_problem(
        await client.post("/api/orders", json=checkout_body(_lines(menu), slot=off_boundary)),
        422,
        "outside-opening-hours",
    )
    assert body["next_free_slot"] == slots[0]["start"]


async def test_full_slot_is_a_409_with_the_next_free_slot(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    await conn.execute("UPDATE slot_capacity SET max_orders = 1 WHERE fulfilment = 'pickup'")
    slots = (await client.get("/api/slots")).json()["slots"]
    wanted = slots[0]["start"]
    first = await client.post("/api/orders", json=checkout_body(_lines(menu), slot=wanted))
    assert first.status_code == 201
    before = await counts(conn)
    body = assert_problem(
        await client.post("/api/orders", json=checkout_body(_lines(menu), slot=wanted)),
        409,
        "slot-full",
    )
    assert body["next_free_slot"] == slots[1]["start"]
    assert "next free slot starts at" in body["detail"]
    assert await counts(conn) == before
    listed = (await client.get("/api/slots")).json()["slots"]
    assert listed[0]["available"] is False
    assert listed[0]["remaining"] == 0


async def test_asap_when_closed_points_to_the_next_opening(
    client: Client, menu: FixtureMenu, conn: Conn, settings: Settings
) -> None:
    # Open only on the day after tomorrow in the restaurant's time zone (not the machine's:
    # at 01:00 UTC it is still yesterday in New York), so the restaurant is closed now.
    weekday = (datetime.now(ZoneInfo(settings.restaurant.timezone)).weekday() + 2) % 7
    await conn.execute("DELETE FROM opening_hours")
    await conn.execute(
        "INSERT INTO opening_hours VALUES (%s, 720, 780), (%s, 720, 780)",
        (weekday, (weekday + 1) % 7),
    )
    body = assert_problem(
        await client.post("/api/orders", json=checkout_body(_lines(menu))),
        422,
        "outside-opening-hours",
    )
    assert body["next_free_slot"] is not None


async def test_paused_ordering_refuses_new_orders(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    await management_repo.set_ordering_paused(conn, True, "Back at 6pm: kitchen maintenance.")
    body = assert_problem(
        await client.post("/api/orders", json=checkout_body(_lines(menu))), 409, "ordering-paused"
    )
    assert body["detail"] == "Back at 6pm: kitchen maintenance."


async def test_malformed_json_is_a_clear_400(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/orders",
        content=b'{"fulfilment": "pickup",',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 400, "bad-request")
    assert "not valid JSON" in body["detail"]


async def test_oversized_body_is_a_413(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    before = await counts(conn)
    body = checkout_body(_lines(menu), notes="x" * 40_000)
    assert_problem(await client.post("/api/orders", json=body), 413, "body-too-large")
    assert await counts(conn) == before


async def test_unknown_tracking_token_is_404(client: Client, menu: FixtureMenu) -> None:
    assert_problem(await client.get("/api/orders/not-a-real-token-at-all"), 404, "not-found")


async def test_idempotent_retry_returns_the_same_order(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    body = checkout_body(_lines(menu))
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post("/api/orders", json=body, headers=headers)
    again = await client.post("/api/orders", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["token"] == first.json()["token"]
    assert (await counts(conn))["orders"] == 1
    changed = checkout_body(_lines(menu, quantity=2))
    assert_problem(
        await client.post("/api/orders", json=changed, headers=headers),
        422,
        "idempotency-key-reused",
    )
    assert (await counts(conn))["orders"] == 1


async def test_overlong_idempotency_key_is_refused(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/orders", json=checkout_body(_lines(menu)), headers={"Idempotency-Key": "k" * 256}
    )
    assert_problem(response, 400, "bad-request")


async def test_selling_out_updates_the_cached_menu(client: Client, menu: FixtureMenu) -> None:
    def soup_available(payload: dict[str, Any]) -> bool:
        items = [i for c in payload["categories"] for i in c["items"]]
        return bool(next(i for i in items if i["id"] == menu.soup)["available"])

    assert soup_available((await client.get("/api/menu")).json())
    response = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.soup, "quantity": 3}])
    )
    assert response.status_code == 201
    await wait_for(lambda: client.get("/api/menu"), lambda r: not soup_available(r.json()))


@pytest.mark.parametrize(
    ("tip", "tip_cents"), [({"tip_percent": 15}, 120), ({"tip_cents": 250}, 250)]
)
async def test_a_tip_is_in_the_total_untaxed_and_on_the_receipt(
    client: Client, menu: FixtureMenu, tip: dict[str, int], tip_cents: int
) -> None:
    body = {**checkout_body([{"item_id": menu.cake, "quantity": 2}]), **tip}
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    totals = response.json()["totals"]
    # 2 x 400 = 800, tax 10% on 800 only; 15% of 800 = 120.
    assert totals == {
        "subtotal_cents": 800,
        "delivery_fee_cents": 0,
        "tax_cents": 80,
        "tip_cents": tip_cents,
        "total_cents": 880 + tip_cents,
    }
    page = await client.get(f"/orders/{response.json()['token']}")
    assert f"${tip_cents / 100:.2f}" in page.text


@pytest.mark.parametrize(
    ("tip", "field"),
    [
        ({"tip_percent": 10, "tip_cents": 100}, None),
        ({"tip_percent": 51}, "tip_percent"),
        ({"tip_cents": -1}, "tip_cents"),
        ({"tip_cents": 100_001}, "tip_cents"),
    ],
)
async def test_a_tip_out_of_bounds_is_refused_and_nothing_is_written(
    client: Client, menu: FixtureMenu, conn: Conn, tip: dict[str, int], field: str | None
) -> None:
    body = {**checkout_body([{"item_id": menu.soup}]), **tip}
    response = await client.post("/api/orders", json=body)
    assert response.status_code in (400, 422), response.text
    problem = response.json()
    if field is None:
        assert problem["type"] == "/problems/invalid-tip"
    else:
        assert problem["errors"][0]["key"] == field
    assert (await counts(conn))["orders"] == 0
    assert (await counts(conn))["soup_stock"] == 3
