"""Kitchen tickets printed on real TCP receipt printers (ESC/POS, decoded by the test's
printer): one ticket per station when the kitchen accepts an order, a VOID ticket when an order
it accepted ends unserved, a reprint on demand, auto-accept; a printer that is off never holds up
the order, is shown as not answering, and prints once it is back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pydantic
import pytest

from gourmet.app import asgi_stack, create_app
from gourmet.config import KitchenSettings, Settings
from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.kitchen.escpos_printer import Printer, printer_on
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.processes import free_port
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def kitchen(settings: Settings, **kitchen: Any) -> AsyncIterator[Client]:
    changed = settings.changed(kitchen=kitchen, notifications={"outbox_every_s": 0.05})
    async with serve(asgi_stack(create_app(changed))) as client:
        yield client


async def place(client: Client, menu: FixtureMenu, notes: str = "") -> dict[str, Any]:
    lines = [
        {"item_id": menu.pizza, "quantity": 1, "option_ids": [menu.size_large, menu.extra_olives]},
        {"item_id": menu.cake, "quantity": 2, "notes": "candles"},
    ]
    placed = await client.post("/api/orders", json=checkout_body(lines, notes=notes))
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def move(client: Client, number: int, status: str, reason: str = "") -> None:
    body = {"status": status, **({"reason": reason} if reason else {})}
    moved = await client.post(
        f"/api/staff/orders/{number}/status", json=body, headers=STAFF_HEADERS
    )
    assert moved.status_code == 200, moved.text


async def printed(printer: Printer, count: int) -> list[list[str]]:
    async def tickets() -> list[list[str]]:
        return printer.tickets

    return await wait_for(tickets, lambda found: len(found) >= count, timeout_s=15)


async def print_jobs_pending(conn: Conn) -> int:
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM outbox WHERE kind = 'print' AND state = 'pending'"
        )
    ).fetchone()
    assert row is not None
    return int(row["n"])


async def test_each_station_prints_one_ticket_when_the_kitchen_accepts_and_a_void_if_it_ends(
    settings: Settings, menu: FixtureMenu, conn: Conn
) -> None:
    kitchen_port, grill_port = free_port(), free_port()
    printers = {"kitchen": f"127.0.0.1:{kitchen_port}", "grill": f"127.0.0.1:{grill_port}"}
    async with (
        printer_on(kitchen_port) as cold,
        printer_on(grill_port) as grill,
        kitchen(settings, printers=printers) as client,
    ):
        order = await place(client, menu, notes="ring twice")
        number = order["number"]
        await wait_for(lambda: print_jobs_pending(conn), lambda n: n == 0)
        assert cold.tickets == []  # nothing is printed before the kitchen accepts
        await move(client, number, "accepted")
        await move(client, number, "preparing")
        (ticket,) = await printed(cold, 1)
        await wait_for(lambda: print_jobs_pending(conn), lambda n: n == 0)
        assert len(grill.tickets) == 1  # and once only: preparing prints nothing
        assert ticket[0].strip() == f"ORDER {number}"
        assert ticket[1].startswith("PICKUP ")
        for printed_line in ("1 x Pizza", "   + Large", "   + Olives", "2 x Cake", "   ! candles"):
            assert printed_line in ticket
        assert "NOTE: ring twice" in ticket
        assert "station: grill" in grill.tickets[0]
        await move(client, number, "cancelled", "customer called")
        tickets = await printed(cold, 2)
        assert tickets[1][:2] == ["*** VOID ***", f"ORDER {number}"]
        assert "CANCELLED: do not make" in tickets[1]
        await printed(grill, 2)


async def test_a_ticket_is_printed_again_on_demand(settings: Settings, menu: FixtureMenu) -> None:
    port = free_port()
    async with (
        printer_on(port) as printer,
        kitchen(settings, printers={"kitchen": f"127.0.0.1:{port}"}) as client,
    ):
        order = await place(client, menu)
        await move(client, order["number"], "accepted")
        await printed(printer, 1)
        path = f"/api/staff/orders/{order['number']}/print"
        again = await client.post(path, headers=STAFF_HEADERS)
        assert again.status_code == 202, again.text
        assert again.json() == {"stations": ["kitchen"]}
        tickets = await printed(printer, 2)
        assert tickets[1][:2] == ["*** REPRINT ***", f"ORDER {order['number']}"]
        missing = await client.post("/api/staff/orders/999999/print", headers=STAFF_HEADERS)
        assert missing.status_code == 404
        anonymous = await client.post(path)
        assert anonymous.status_code == 401


async def test_a_printer_that_is_off_holds_up_nothing_is_flagged_and_prints_when_back(
    settings: Settings, menu: FixtureMenu
) -> None:
    port = free_port()  # nothing listens there yet: the printer is off
    async with kitchen(settings, printers={"kitchen": f"127.0.0.1:{port}"}) as client:
        order = await place(client, menu)
        await move(client, order["number"], "accepted")  # answered at once, printer or not

        async def states() -> list[dict[str, Any]]:
            answer = await client.get("/api/staff/printers", headers=STAFF_HEADERS)
            assert answer.status_code == 200, answer.text
            found: list[dict[str, Any]] = answer.json()
            return found

        (off,) = await wait_for(states, lambda found: not found[0]["answering"])
        assert (off["station"], off["waiting"]) == ("kitchen", 1)
        assert "refused" in off["last_error"].lower()
        async with printer_on(port) as printer:
            (ticket,) = await printed(printer, 1)
            assert ticket[0].strip() == f"ORDER {order['number']}"
            (back,) = await wait_for(states, lambda found: found[0]["answering"])
        assert back["waiting"] == 0


async def test_auto_accept_accepts_new_orders_and_prints_them(
    settings: Settings, menu: FixtureMenu
) -> None:
    port = free_port()
    printers = {"kitchen": f"127.0.0.1:{port}"}
    async with (
        printer_on(port) as printer,
        kitchen(settings, printers=printers, auto_accept=True) as client,
    ):
        order = await place(client, menu)
        (ticket,) = await printed(printer, 1)
        assert ticket[0].strip() == f"ORDER {order['number']}"
        seen = await client.get(f"/api/orders/{order['token']}")
        assert seen.json()["status"] == "accepted"
        assert seen.json()["history"][-1]["actor"] == "auto-accept"


@pytest.mark.parametrize(
    "printers",
    [
        {"kitchen": "not an address!"},
        {"kitchen": "10.0.0.5:99999"},
        {"the kitchen": "10.0.0.5"},
        {"": "10.0.0.5"},
    ],
)
def test_a_printer_setting_that_is_not_one_is_refused(printers: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError):
        KitchenSettings(printers=printers)
    assert KitchenSettings(printers={"grill-2": "printer.local"}).printers == {
        "grill-2": "printer.local"
    }
