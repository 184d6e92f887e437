"""Hours as restaurants have them, at the API against PostgreSQL: pickup and delivery hours of
their own, special days that replace the week's (a holiday closed with a message, shorter hours
on one date), and the checks that keep them sensible."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gourmet.config import Settings
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import assert_problem
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio
API = "/api/manage"


def every_day(opens: int, closes: int, fulfilment: str = "both") -> list[dict[str, Any]]:
    return [
        {"weekday": d, "opens_minute": opens, "closes_minute": closes, "fulfilment": fulfilment}
        for d in range(7)
    ]


async def local_slot_minutes(
    client: Client, fulfilment: str, tz: ZoneInfo
) -> list[tuple[date, int]]:
    slots = (await client.get(f"/api/slots?fulfilment={fulfilment}")).json()["slots"]
    starts = [datetime.fromisoformat(s["start"]).astimezone(tz) for s in slots]
    return [(s.date(), s.hour * 60 + s.minute) for s in starts]


async def test_pickup_and_delivery_keep_hours_of_their_own(
    client: Client, menu: FixtureMenu, settings: Settings
) -> None:
    periods = every_day(0, 1440, "pickup") + every_day(18 * 60, 22 * 60, "delivery")
    response = await client.put(f"{API}/hours", json={"periods": periods}, headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    assert {p["fulfilment"] for p in response.json()["hours"]} == {"pickup", "delivery"}
    tz = ZoneInfo(settings.restaurant.timezone)
    delivery = await local_slot_minutes(client, "delivery", tz)
    pickup = await local_slot_minutes(client, "pickup", tz)
    assert delivery
    assert all(18 * 60 <= minute < 22 * 60 for _, minute in delivery)
    assert any(minute < 18 * 60 or minute >= 22 * 60 for _, minute in pickup)


async def test_periods_overlap_only_within_one_kind(client: Client, menu: FixtureMenu) -> None:
    apart = [
        {"weekday": 0, "opens_minute": 600, "closes_minute": 840, "fulfilment": "pickup"},
        {"weekday": 0, "opens_minute": 720, "closes_minute": 960, "fulfilment": "delivery"},
    ]
    ok = await client.put(f"{API}/hours", json={"periods": apart}, headers=STAFF_HEADERS)
    assert ok.status_code == 200, ok.text
    clash = [
        {"weekday": 0, "opens_minute": 600, "closes_minute": 840},
        {"weekday": 0, "opens_minute": 720, "closes_minute": 960, "fulfilment": "pickup"},
    ]
    refused = await client.put(f"{API}/hours", json={"periods": clash}, headers=STAFF_HEADERS)
    assert_problem(refused, 422, "overlapping-hours")


async def test_a_holiday_closes_today_with_its_message(
    client: Client, menu: FixtureMenu, settings: Settings
) -> None:
    tz = ZoneInfo(settings.restaurant.timezone)
    today = datetime.now(tz).date()
    holiday = {"day": today.isoformat(), "closed": True, "message": "Closed for Thanksgiving"}
    response = await client.put(
        f"{API}/special-days", json={"days": [holiday]}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
    assert response.json()["special_days"] == [
        {**holiday, "opens_minute": None, "closes_minute": None}
    ]
    refused = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    problem = assert_problem(refused, 422, "outside-opening-hours")
    assert problem["detail"].startswith("Closed today: Closed for Thanksgiving.")
    assert problem["next_free_slot"] is not None
    assert all(day > today for day, _ in await local_slot_minutes(client, "pickup", tz))
    slots = (await client.get("/api/slots?fulfilment=delivery")).json()
    assert slots["closed_today"] == "Closed for Thanksgiving"


async def test_a_special_day_has_its_own_hours(
    client: Client, menu: FixtureMenu, settings: Settings
) -> None:
    tz = ZoneInfo(settings.restaurant.timezone)
    tomorrow = datetime.now(tz).date() + timedelta(days=1)
    short = {
        "day": tomorrow.isoformat(),
        "closed": False,
        "opens_minute": 720,
        "closes_minute": 840,
    }
    response = await client.put(
        f"{API}/special-days", json={"days": [short]}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
    tomorrows = [m for day, m in await local_slot_minutes(client, "pickup", tz) if day == tomorrow]
    assert tomorrows
    assert all(720 <= minute < 840 for minute in tomorrows)


@pytest.mark.parametrize(
    "days",
    [
        [{"day": "2030-01-01", "closed": False}],
        [{"day": "2030-01-01", "closed": False, "opens_minute": 900, "closes_minute": 600}],
        [{"day": "2030-01-01", "closed": True}, {"day": "2030-01-01", "closed": True}],
    ],
)
async def test_special_days_that_make_no_sense_are_refused(
    client: Client, menu: FixtureMenu, days: list[dict[str, Any]]
) -> None:
    response = await client.put(f"{API}/special-days", json={"days": days}, headers=STAFF_HEADERS)
    assert_problem(response, 422, "invalid-value")
    restaurant = (await client.get(f"{API}/restaurant", headers=STAFF_HEADERS)).json()
    assert restaurant["special_days"] == []
