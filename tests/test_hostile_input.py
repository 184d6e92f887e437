"""Hostile input gets a clear 4xx problem and writes nothing: NUL bytes (PostgreSQL cannot store
them in text), JSON nested thousands deep, and the like."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


async def counts(conn: Conn) -> tuple[int, int]:
    row = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT count(*) FROM incident) AS incidents"
        )
    ).fetchone()
    assert row is not None
    return row["orders"], row["incidents"]


@pytest.mark.parametrize("field", ["name", "notes"])
async def test_a_nul_byte_in_a_checkout_is_refused_and_nothing_is_written(
    client: Client, menu: FixtureMenu, conn: Conn, field: str
) -> None:
    before = await counts(conn)
    body = checkout_body([{"item_id": menu.cake}])
    if field == "name":
        body["customer"]["name"] = "Ada\x00Lovelace"
    else:
        body["notes"] = "no nuts\x00please"
    problem = assert_problem(await client.post("/api/orders", json=body), 422)
    assert "NUL" in problem["detail"] or "character" in problem["detail"]
    assert await counts(conn) == before


async def test_a_nul_byte_in_a_tracking_link_is_not_found(
    client: Client, menu: FixtureMenu
) -> None:
    assert_problem(await client.get("/api/orders/abc%00def"), 404)


async def test_a_nul_byte_in_an_incident_is_refused(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await counts(conn)
    body = {"title": "Slow", "state": "investigating", "message": "on\x00it"}
    response = await client.post("/api/ops/incidents", json=body, headers=STAFF_HEADERS)
    assert_problem(response, 422)
    assert await counts(conn) == before


async def test_json_nested_thousands_deep_is_a_400(client: Client, menu: FixtureMenu) -> None:
    deep = "[" * 5_000 + "]" * 5_000  # within the body size limit
    response = await client.post(
        "/api/orders", content=deep, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"quantity": "3"}, "lines[0].quantity"),  # a number sent as text
        ({"quantity": 2.0}, "lines[0].quantity"),  # a float for a count
        ({"quantity": True}, "lines[0].quantity"),  # a flag for a count
        ({"item_id": str}, "lines[0].item_id"),  # an id sent as text (filled in below)
    ],
)
async def test_a_value_of_the_wrong_type_is_refused_not_guessed(
    client: Client, menu: FixtureMenu, conn: Conn, change: dict[str, Any], key: str
) -> None:
    """Bodies are read strictly (Litestar alone converts in lax mode): "3" is not taken for 3
    nor true for 1. The answer names the field, and nothing is written."""
    before = await counts(conn)
    line = {"item_id": menu.cake, "quantity": 1, **change}
    if line["item_id"] is str:
        line["item_id"] = str(menu.cake)
    response = await client.post("/api/orders", json=checkout_body([line]))
    body = assert_problem(response, 400)
    assert body["errors"][0]["key"] == key, body
    assert await counts(conn) == before


async def test_a_flag_sent_as_a_number_is_refused(client: Client, menu: FixtureMenu) -> None:
    """1 is not true: a manager's client that sends it has a bug, and the item stays as it was."""
    response = await client.post(
        f"/api/manage/items/{menu.cake}/availability",
        json={"available": 0},
        headers=STAFF_HEADERS,
    )
    body = assert_problem(response, 422)  # the management API's answer to an invalid value
    assert body["field"] == "available", body
    menu_now = (await client.get("/api/menu")).json()
    cake = next(i for c in menu_now["categories"] for i in c["items"] if i["id"] == menu.cake)
    assert cake["available"] is True


async def test_a_body_that_is_not_utf8_is_a_400_and_nothing_is_written(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await counts(conn)
    body = (
        b'{"fulfilment": "pickup", "customer": {"name": "\xff\xfe Ada", "phone": "555-0100"},'
        b' "lines": [{"item_id": %d}]}' % menu.cake
    )
    response = await client.post(
        "/api/orders", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)
    assert await counts(conn) == before


async def test_control_characters_are_kept_as_typed_never_interpreted(
    client: Client, menu: FixtureMenu
) -> None:
    """Control characters other than NUL can be stored: they are kept exactly (the pages show
    them as text, like any other character), neither dropped nor turned into anything else."""
    name = "Ada\u0007\u001b[31m\u202eLovelace"
    body = checkout_body([{"item_id": menu.cake}], name=name)
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    tracked = await client.get(f"/api/orders/{response.json()['token']}")
    assert tracked.json()["customer_name"] == name
