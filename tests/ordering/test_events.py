"""Order tracking over server-sent events: every change arrives, pushed by PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from litestar import Litestar

from gourmet.db.notifications import ORDER_CHANNEL
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio


def events(stream: str) -> list[dict[str, Any]]:
    """The ``order`` events of an SSE body, decoded."""
    found = []
    for block in stream.split("\r\n\r\n") if "\r\n" in stream else stream.split("\n\n"):
        lines = block.splitlines()
        if any(line == "event: order" for line in lines):
            data = "".join(
                line.removeprefix("data: ") for line in lines if line.startswith("data:")
            )
            found.append(json.loads(data))
    return found


async def test_stream_pushes_every_status_change(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    order = (await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))).json()
    # A 1 ms deadline: it is long gone when the changes come, and the stream must not care.
    stream = asyncio.create_task(
        client.get(f"/api/orders/{order['token']}/events", headers={"X-Request-Deadline-Ms": "1"})
    )
    await wait_for(
        lambda: asyncio.sleep(0, runtime_of(app).services.hub.subscriber_count(ORDER_CHANNEL)),
        lambda count: count == 1,
    )
    for status in ("accepted", "preparing", "ready", "completed"):
        moved = await client.post(
            f"/api/staff/orders/{order['number']}/status",
            json={"status": status},
            headers=STAFF_HEADERS,
        )
        assert moved.status_code == 200
    response = await asyncio.wait_for(stream, 10)  # the stream ends with the order
    assert response.headers["content-type"].startswith("text/event-stream")
    pushed = events(response.text)
    statuses: list[str] = [event["status"] for event in pushed]
    workflow = ["received", "accepted", "preparing", "ready", "completed"]
    # Each event is the whole order as it is when read: changes made in quick succession may
    # arrive together, but never out of order, and the last event carries the full history.
    assert statuses[0] == "received"
    assert statuses[-1] == "completed"
    assert statuses == sorted(statuses, key=workflow.index)
    assert len(statuses) >= 2
    assert [h["status"] for h in pushed[-1]["history"]] == workflow


async def test_unknown_order_stream_is_404(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/api/orders/no-such-order-token-here/events")
    assert response.status_code == 404
