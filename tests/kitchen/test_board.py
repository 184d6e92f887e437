"""The kitchen board: its page needs a staff session, its stream pushes every change."""

from __future__ import annotations

import json

import anyio
import pytest
from litestar import Litestar

from gourmet.ordering.tracking.events import kitchen_stream
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_board_page_needs_a_staff_session(client: Client, menu: FixtureMenu) -> None:
    anonymous = await client.get("/kitchen")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/ops/login?next=/kitchen"
    signed = await client.post("/ops/login", data={"token": STAFF_TOKEN, "next": "/kitchen"})
    assert signed.headers["location"] == "/kitchen"
    page = await client.get("/kitchen")
    assert page.status_code == 200
    assert "/static/staff/kitchen.js" in page.text
    outside = await client.post("/ops/login", data={"token": STAFF_TOKEN, "next": "//evil.example"})
    assert outside.headers["location"] == "/ops"  # never an open redirect


async def test_stream_pushes_new_orders_and_moves(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    stream = kitchen_stream(
        runtime_of(app).services.hub, runtime_of(app).services.kitchen_orders.kitchen_cards
    )
    with anyio.fail_after(10):
        first = json.loads(str((await anext(stream)).data))
        assert first == []
        note = "<script>alert(1)</script>"
        placed = await client.post(
            "/api/orders", json=checkout_body([{"item_id": menu.cake}], notes=note)
        )
        cards = json.loads(str((await anext(stream)).data))
        assert [c["order"]["token"] for c in cards] == [placed.json()["token"]]
        assert cards[0]["next_statuses"] == ["accepted", "cancelled", "rejected"]
        assert cards[0]["order"]["notes"] == note  # raw text; the board sets it as textContent
        await client.post(
            f"/api/staff/orders/{placed.json()['number']}/status",
            json={"status": "accepted"},
            headers=STAFF_HEADERS,
        )
        moved = json.loads(str((await anext(stream)).data))
        assert moved[0]["order"]["status"] == "accepted"
        assert moved[0]["next_statuses"] == ["cancelled", "preparing"]
    await stream.aclose()
