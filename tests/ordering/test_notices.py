"""Customers are told: one email per event through a real SMTP conversation (aiosmtpd's sink,
in this process) and a text when the order is ready (the SMS sandbox), sent by the outbox worker
after the change committed, never twice, also across a restart with the mail server down."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.db.types import Conn
from gourmet.notify import sink
from gourmet.notify.sms import read_sandbox
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body, html_of, text_of
from tests.polling import wait_for
from tests.processes import free_port
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


@pytest.fixture
def mail_port() -> int:
    return free_port()


@pytest.fixture
def mailbox(tmp_path: Path, mail_port: int) -> Iterator[Path]:
    folder = tmp_path / "mail"
    controller = sink.start(folder, port=mail_port, say=False)
    try:
        yield folder
    finally:
        controller.stop()


@contextlib.asynccontextmanager
async def gourmet(settings: Settings, mail_port: int) -> AsyncIterator[Client]:
    noticing = settings.changed(
        notifications={
            "smtp_url": f"smtp://127.0.0.1:{mail_port}",
            "sms": "sandbox",
            "outbox_every_s": 0.05,
        },
        server={"public_url": "https://order.example"},
    )
    async with serve(asgi_stack(create_app(noticing))) as client:
        yield client


async def mails_until(
    folder: Path, count: int, conn: Conn, within_s: float = 10.0
) -> list[EmailMessage]:
    """The mails in the folder once at least ``count`` arrived and no outbox job is left to
    run: from then on nothing more can be sent, so a duplicate would be among them."""

    async def pending() -> int:
        row = await (
            await conn.execute("SELECT count(*) AS n FROM outbox WHERE state = 'pending'")
        ).fetchone()
        return int(row["n"]) if row else 0

    try:
        await wait_for(lambda: _read(folder), lambda found: len(found) >= count, within_s)
        await wait_for(pending, lambda n: n == 0, within_s)
    except TimeoutError:
        subjects = [m["subject"] for m in sink.read_folder(folder)]
        raise AssertionError(f"{len(subjects)} mail(s), not {count}: {subjects}") from None
    return sink.read_folder(folder)


async def _read(folder: Path) -> list[EmailMessage]:
    return sink.read_folder(folder)


async def move(client: Client, number: int, status: str, reason: str = "") -> None:
    body: dict[str, Any] = {"status": status, **({"reason": reason} if reason else {})}
    response = await client.post(
        f"/api/staff/orders/{number}/status", json=body, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text


async def test_a_customer_hears_of_each_step_once(
    settings: Settings, mailbox: Path, mail_port: int, menu: FixtureMenu, conn: Conn
) -> None:
    async with gourmet(settings, mail_port) as client:
        body = checkout_body([{"item_id": menu.cake, "quantity": 2}], name="<b>Ada</b>")
        placed = await client.post("/api/orders", json=body)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        for status in ("accepted", "preparing", "ready", "completed"):
            await move(client, order["number"], status)
        mails = await mails_until(mailbox, 3, conn)
    n = order["number"]
    assert [m["subject"] for m in mails] == [
        f"Order {n} confirmed - Gourmet Delights",
        f"Order {n} accepted - Gourmet Delights",
        f"Order {n} is ready - Gourmet Delights",
    ]
    confirmed, accepted, ready = mails
    assert confirmed["To"] == "ada@example.com"
    assert f"https://order.example/orders/{order['token']}" in text_of(confirmed)
    assert "2 x Cake" in text_of(confirmed)
    assert "$8.80" in text_of(confirmed)  # the total, tax included
    assert "Hello <b>Ada</b>," in text_of(confirmed)  # plain text: as typed
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html_of(confirmed)  # HTML: escaped, never markup
    assert "it will be ready at" in text_of(accepted)
    assert "come and collect it" in text_of(ready)
    assert len({m["Message-ID"] for m in mails}) == 3
    texts = read_sandbox(settings.data_dir / "sms.jsonl")
    assert [(t["to"], t["text"]) for t in texts] == [
        ("555-0100", f"Gourmet Delights: order {n} is ready.")
    ]


async def test_a_rejection_says_why(
    settings: Settings, mailbox: Path, mail_port: int, menu: FixtureMenu, conn: Conn
) -> None:
    async with gourmet(settings, mail_port) as client:
        placed = (
            await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        ).json()
        await move(client, placed["number"], "rejected", "the oven is broken")
        mails = await mails_until(mailbox, 2, conn)
    assert mails[1]["subject"].startswith(f"Order {placed['number']} could not be taken")
    assert "(the oven is broken)" in text_of(mails[1])
    assert "refunded" not in text_of(mails[1])  # nothing was paid


async def test_no_email_address_no_mail(
    settings: Settings, mailbox: Path, mail_port: int, menu: FixtureMenu, conn: Conn
) -> None:
    async with gourmet(settings, mail_port) as client:
        body = checkout_body([{"item_id": menu.cake}])
        del body["customer"]["email"]
        placed = await client.post("/api/orders", json=body)
        assert placed.status_code == 201, placed.text
        await move(client, placed.json()["number"], "accepted")
    assert await (await conn.execute("SELECT count(*) AS n FROM outbox")).fetchone() == {"n": 0}
    assert sink.read_folder(mailbox) == []


async def test_mail_waits_out_a_mail_server_outage_and_a_restart_and_is_sent_once(
    settings: Settings, tmp_path: Path, menu: FixtureMenu, conn: Conn
) -> None:
    """The mail server is down while the order is placed and the process stops; a new process
    starts after the server is back and sends the confirmation, once. A third process finds
    nothing left to send."""
    port = free_port()
    async with gourmet(settings, port) as client:
        placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        assert placed.status_code == 201

        async def tried() -> bool:
            row = await (await conn.execute("SELECT attempts, last_error FROM outbox")).fetchone()
            return row is not None and row["attempts"] >= 1 and bool(row["last_error"])

        deadline = time.monotonic() + 10
        while not await tried():
            assert time.monotonic() < deadline, "the worker never tried the mail server"
            await asyncio.sleep(0.05)  # polling the outbox
    folder = tmp_path / "mail-after"
    controller = sink.start(folder, port=port, say=False)
    try:
        # The failed try scheduled the next one a second or two away.
        async with gourmet(settings, port):
            mails = await mails_until(folder, 1, conn)
        # A third process finds nothing left to send: no job is pending, the mail is there once.
        async with gourmet(settings, port):
            await mails_until(folder, 1, conn)
        assert len(sink.read_folder(folder)) == 1
    finally:
        controller.stop()
    assert [m["subject"] for m in mails] == [
        f"Order {placed.json()['number']} confirmed - Gourmet Delights"
    ]
    job = await (await conn.execute("SELECT state FROM outbox")).fetchone()
    assert job == {"state": "done"}
