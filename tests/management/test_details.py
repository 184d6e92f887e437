"""The restaurant's details (name, address, phone) through the manager's API, as customers then
see them on the menu and its page, with the week's hours; bad details write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.management.helpers import snapshot, wait_for_menu
from tests.serving import Client

pytestmark = pytest.mark.anyio

DETAILS = {
    "name": "Gourmet Delights",
    "address": "12 Market Square, Springfield",
    "phone": "+1 (555) 010-2000",
}


async def test_details_reach_the_menu_and_its_page(client: Client, menu: FixtureMenu) -> None:
    saved = await client.put("/api/manage/details", json=DETAILS, headers=STAFF_HEADERS)
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in DETAILS} == DETAILS
    served = await wait_for_menu(client, lambda m: m["phone"] == DETAILS["phone"])
    assert (served["restaurant"], served["address"]) == (DETAILS["name"], DETAILS["address"])
    assert len(served["hours"]) == 7  # the test restaurant opens every day, all day
    page = await client.get("/")
    assert '<a href="tel:+1(555)010-2000">+1 (555) 010-2000</a>' in page.text
    assert "12 Market Square, Springfield" in page.text
    assert '<th scope="row">Monday</th>' in page.text
    assert '<th scope="row">Sunday</th>\n        <td>all day</td>' in page.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DETAILS, "phone": "call me <maybe>"}, "phone"),  # not a phone number
        ({**DETAILS, "name": ""}, "name"),
        ({**DETAILS, "name": "   "}, "name"),
        ({**DETAILS, "address": "x" * 301}, "address"),
        ({**DETAILS, "fax": "1"}, "body"),
    ],
)
async def test_bad_details_get_a_problem_and_write_nothing(
    client: Client, menu: FixtureMenu, conn: Conn, body: dict[str, Any], field: str
) -> None:
    before = await snapshot(conn)
    answer = await client.put("/api/manage/details", json=body, headers=STAFF_HEADERS)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
    assert await snapshot(conn) == before
    anonymous = await client.put("/api/manage/details", json=DETAILS)
    assert anonymous.status_code == 401
