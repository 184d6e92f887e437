"""Money is always right, against the real sandbox provider and PostgreSQL: a paid order that
ends unserved is refunded once (also when the provider fails or is slow mid-way, and when two
workers run the job), an unpaid order expires and gives its place back, a charge that lands on
an order that already ended is given back, and reconciliation finds any difference."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from gourmet.cli import app as cli
from gourmet.db.types import Conn
from gourmet.notify import sink
from gourmet.ordering.money.owed import REFUND
from gourmet.ordering.money.reconcile import reconcile
from gourmet.ordering.money.refunds import Refunds
from gourmet.ordering.notifications.outbox import Job, OutboxWorker
from gourmet.payments.client import HttpPaymentProvider
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.ordering.helpers import text_of as plain
from tests.payments.helpers import Sandbox
from tests.payments.test_checkout_card import by_card, gourmet
from tests.processes import free_port
from tests.serving import Client

pytestmark = pytest.mark.anyio

FAST_OUTBOX = {"notifications": {"outbox_every_s": 0.05}}


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s")
        await asyncio.sleep(0.05)  # polling the outcome of background work


async def order_of(client: Client, token: str) -> dict[str, Any]:
    response = await client.get(f"/api/orders/{token}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refunded(client: Client, token: str) -> bool:
    return bool((await order_of(client, token))["payment_status"] == "refunded")


async def refunds_at(sandbox: Sandbox) -> list[dict[str, Any]]:
    response = await sandbox.http.get("/refunds")
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["refunds"]
    return found


async def move(client: Client, number: int, status: str, reason: str = "") -> httpx.Response:
    body = {"status": status, **({"reason": reason} if reason else {})}
    return await client.post(f"/api/staff/orders/{number}/status", json=body, headers=STAFF_HEADERS)


async def paid_order(client: Client, menu: FixtureMenu) -> dict[str, Any]:
    response = await client.post("/api/orders", json=by_card(menu))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    assert order["payment_status"] == "paid"
    return order


@pytest.mark.parametrize("ending", [["rejected"], ["accepted", "cancelled"]])
async def test_a_paid_order_that_ends_unserved_is_refunded_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, ending: list[str]
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        for status in ending:
            moved = await move(client, order["number"], status, "out of flour")
            assert moved.status_code == 200, moved.text
        assert moved.json()["payment_status"] == "refund_pending"  # owed from that moment
        await eventually(lambda: refunded(client, order["token"]))
        seen = await order_of(client, order["token"])
        total = order["totals"]["total_cents"]
        assert seen["refunded_cents"] == total
        note = seen["history"][-1]
        assert (note["actor"], note["reason"]) == (
            "payments",
            f"Refunded ${total / 100:.2f} to the card",
        )
        charge = (await sandbox.charges())[0]
        assert [(r["charge_id"], r["amount_cents"]) for r in await refunds_at(sandbox)] == [
            (charge["id"], total)
        ]
        # The tracking page says so.
        page = await client.get(f"/orders/{order['token']}")
        assert "Refunded to your card" in page.text


async def test_an_order_paid_at_pickup_owes_no_refund(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        number = placed.json()["number"]
        assert (await move(client, number, "rejected", "closed early")).status_code == 200
        outbox = await (await conn.execute("SELECT count(*) AS n FROM outbox")).fetchone()
        assert outbox == {"n": 0}
        assert (await order_of(client, placed.json()["token"]))["payment_status"] == "not_required"


async def test_a_failing_then_slow_provider_still_refunds_exactly_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    """The provider fails every call, then answers after the client's timeout (the refund is
    made at the provider, but the answer is lost), then recovers: the job is tried again with
    the same idempotency key, and the customer gets one refund."""
    async with gourmet(
        database_url, tmp_path, sandbox, payments={"timeout_s": 1.0}, **FAST_OUTBOX
    ) as (
        client,
        _,
    ):
        order = await paid_order(client, menu)
        await sandbox.control(failure_rate=1.0, failure_status=503)
        assert (await move(client, order["number"], "rejected", "no driver")).status_code == 200

        async def tried(times: int) -> bool:
            row = await (await conn.execute("SELECT attempts, last_error FROM outbox")).fetchone()
            return row is not None and row["attempts"] >= times and bool(row["last_error"])

        await eventually(lambda: tried(1))
        assert (await order_of(client, order["token"]))["payment_status"] == "refund_pending"
        await sandbox.control(failure_rate=0.0, latency_ms=1500)  # slower than the timeout
        await eventually(lambda: _refunds_made(sandbox, 1))
        assert (await order_of(client, order["token"]))["payment_status"] == "refund_pending"
        await sandbox.control(latency_ms=0)
        await eventually(lambda: refunded(client, order["token"]), within_s=30)
        assert len(await refunds_at(sandbox)) == 1
        job = await (await conn.execute("SELECT state, attempts FROM outbox")).fetchone()
        assert job is not None
        assert (job["state"], job["attempts"] >= 3) == ("done", True)


async def _refunds_made(sandbox: Sandbox, count: int) -> bool:
    return len(await refunds_at(sandbox)) >= count


async def test_two_workers_on_one_job_refund_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    """Two workers race for due jobs (SKIP LOCKED gives each job to one), and a job run twice
    (a lease that ran out while the first run still waited) refunds once: the provider's
    idempotency key is the job's name, and the order records the refund once."""
    slow = {"outbox_every_s": 60}
    async with gourmet(database_url, tmp_path, sandbox, notifications=slow) as (client, app):
        services = runtime_of(app).services
        assert services.payment_provider is not None
        handler = Refunds(
            services.pool, services.order_book, services.payment_provider, services.money
        )
        order = await paid_order(client, menu)
        assert (await move(client, order["number"], "rejected", "closed")).status_code == 200
        workers = [
            OutboxWorker(services.pool, {REFUND: handler}, every_s=3600, lease_s=60)
            for _ in range(2)
        ]
        taken = await asyncio.gather(*(w.run_once() for w in workers))
        assert sorted(taken) == [0, 1]
        row = await (await conn.execute("SELECT * FROM outbox")).fetchone()
        assert row is not None
        job = Job(row["id"], row["kind"], row["event_key"], row["order_id"], row["payload"], 2)
        await handler(job)  # the same job again, as after a lost lease
        assert len(await refunds_at(sandbox)) == 1
        seen = await order_of(client, order["token"])
        assert seen["refunded_cents"] == order["totals"]["total_cents"]
        assert [h["reason"] for h in seen["history"]].count(seen["history"][-1]["reason"]) == 1


async def test_an_unpaid_order_expires_and_gives_its_place_and_stock_back(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        body = {
            **checkout_body([{"item_id": menu.soup, "quantity": 2}]),
            "payment": "card",
            "card_token": "tok_decline",
        }
        declined = await client.post("/api/orders", json=body)
        assert declined.status_code == 402
        token = declined.json()["order_token"]
        stock = await (
            await conn.execute("SELECT stock FROM item WHERE id = %s", [menu.soup])
        ).fetchone()
        assert stock == {"stock": 1}
        await conn.execute(
            "UPDATE orders SET created_at = now() - interval '16 minutes' WHERE token = %s", [token]
        )

        async def expired() -> bool:
            return bool((await order_of(client, token))["status"] == "cancelled")

        await eventually(expired)
        seen = await order_of(client, token)
        assert (seen["history"][-1]["actor"], seen["history"][-1]["reason"]) == (
            "payments",
            "Not paid within 15 minutes",
        )
        assert seen["payment_status"] == "declined"  # nothing was charged, nothing is owed
        stock = await (
            await conn.execute("SELECT stock FROM item WHERE id = %s", [menu.soup])
        ).fetchone()
        assert stock == {"stock": 3}
        booked = await (
            await conn.execute("SELECT coalesce(sum(booked), 0) AS n FROM slot_booking")
        ).fetchone()
        assert booked == {"n": 0}


async def test_a_charge_that_lands_after_the_order_ended_is_given_back(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    """Staff cancel (or the expiry ends) an order while its card is being charged: the charge
    goes through at the provider, and the money is owed back at once."""
    async with gourmet(
        database_url, tmp_path, sandbox, payments={"timeout_s": 5.0}, **FAST_OUTBOX
    ) as (
        client,
        _,
    ):
        await sandbox.control(latency_ms=1500)
        checkout = asyncio.create_task(client.post("/api/orders", json=by_card(menu)))
        await sandbox.wait_for_in_flight(1)
        row = await (await conn.execute("SELECT id, token FROM orders")).fetchone()
        assert row is not None
        assert (await move(client, row["id"], "cancelled")).status_code == 200
        await checkout
        await sandbox.control(latency_ms=0)
        await eventually(lambda: refunded(client, row["token"]))
        charges = await sandbox.charges()
        assert len(charges) == 1
        assert [r["charge_id"] for r in await refunds_at(sandbox)] == [charges[0]["id"]]
        assert (await order_of(client, row["token"]))["status"] == "cancelled"


async def test_reconciliation_finds_money_that_is_wrong(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    sandbox: Sandbox,
    conn: Conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        kept = await paid_order(client, menu)
        ended = await paid_order(client, menu)
        assert (await move(client, ended["number"], "rejected", "closed")).status_code == 200
        await eventually(lambda: refunded(client, ended["token"]))
    async with httpx.AsyncClient() as http:
        provider = HttpPaymentProvider(http, base_url=sandbox.url)
        clean = await reconcile(conn, await provider.ledger())
        assert clean.differences == []
        assert clean.orders_checked == 2
        # Money taken with no order behind it (a charge whose answer was never recorded).
        await provider.charge(
            idempotency_key="lost-order-1",
            amount_cents=999,
            currency="USD",
            description="a lost order",
            card_token="tok_visa",
        )
        # An order that says paid with a charge the provider never made.
        await conn.execute(
            "UPDATE orders SET payment_reference = 'ch_made_up' WHERE token = %s", [kept["token"]]
        )
        found = await reconcile(conn, await provider.ledger())
    kinds = sorted((d.kind, d.order or 0) for d in found.differences)
    assert kinds == [
        ("charge without an order", 0),
        ("charge without an order", kept["number"]),  # its real charge, now unrecorded
        ("payment not at the provider", kept["number"]),
    ]
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    monkeypatch.setenv("GOURMET_PAYMENTS__URL", sandbox.url)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["payments", "reconcile"])
    assert result.exit_code == 1, result.output
    assert "payment not at the provider" in result.output


async def test_reconcile_command_says_when_all_is_well(
    menu: FixtureMenu, database_url: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    monkeypatch.setenv("GOURMET_PAYMENTS__URL", sandbox.url)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "No differences" in result.output


async def test_the_customer_is_told_of_the_refund(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    with mail_sink(tmp_path / "mail") as mail:
        async with gourmet(database_url, tmp_path, sandbox, **mail) as (client, _):
            order = await paid_order(client, menu)
            assert (await move(client, order["number"], "rejected", "closed")).status_code == 200
            await eventually(lambda: refunded(client, order["token"]))
            await eventually(lambda: _mails(tmp_path / "mail", 3))
    _confirmed, rejected, refund = sink.read_folder(tmp_path / "mail")
    assert "Your card payment will be refunded in full." in plain(rejected)
    total = order["totals"]["total_cents"]
    assert refund["subject"].startswith(f"Refund for order {order['number']}")
    assert f"We have refunded ${total / 100:.2f} to your card" in plain(refund)


@contextlib.contextmanager
def mail_sink(folder: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """A real SMTP server writing to ``folder``; yields the settings that send mail to it."""
    port = free_port()
    controller = sink.start(folder, port=port, say=False)
    try:
        yield {"notifications": {"smtp_url": f"smtp://127.0.0.1:{port}", "outbox_every_s": 0.05}}
    finally:
        controller.stop()


async def _mails(folder: Path, count: int) -> bool:
    return len(sink.read_folder(folder)) >= count
