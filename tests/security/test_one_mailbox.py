"""Finding 4 of the hostile probe (2026-12-07), its addresses: a comma-separated address sent
one confirmation to three recipients, and CR/LF, ``<>`` and spaces were accepted.

An address that is not exactly one mailbox is refused at every door where one comes in
(checkout, phone orders, sign-up: 422 problem+json naming the field, nothing written), and a
mail goes to exactly one recipient whatever the order holds. The outbox side of the finding is
in test_outbox_failures.py, whose SMTP server (aiosmtpd, in this process) these tests share.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from gourmet.config import Settings
from gourmet.db.types import Conn
from gourmet.notify.smtp import SmtpSender
from tests.accounts.helpers import CSRF, PASSWORD
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.payments.test_refunds import eventually
from tests.security import test_outbox_failures as outbox_failures
from tests.security.test_outbox_failures import MailServer, mailing, the_job
from tests.serving import Client

pytestmark = pytest.mark.anyio
mail_server = outbox_failures.mail_server  # the fixture

NOT_ONE_MAILBOX = [
    "a@x.com,b@x.com",  # a list: one confirmation went to three recipients
    "a@x.com\r\nBcc: c@x.com",  # a header smuggled in
    "<a@x.com>",
    "Ada <a@x.com>",
    "a b@x.com",
    "a@x.com\n",
]


@pytest.mark.parametrize("address", NOT_ONE_MAILBOX)
async def test_checkout_refuses_an_address_that_is_not_one_mailbox(
    client: Client, menu: FixtureMenu, conn: Conn, address: str
) -> None:
    body = checkout_body([{"item_id": menu.cake}])
    body["customer"]["email"] = address
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/invalid-email"
    assert problem["field"] == "customer.email"
    assert problem["detail"].startswith("Give one email address like name@example.com: ")
    written = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM outbox) AS jobs"
        )
    ).fetchone()
    assert written == {"orders": 0, "jobs": 0}


@pytest.mark.parametrize("address", ["a@x.com,b@x.com", "a@x.com\r\nBcc: c@x.com"])
async def test_phone_orders_and_sign_up_refuse_it_too(
    client: Client, menu: FixtureMenu, conn: Conn, address: str
) -> None:
    body = checkout_body([{"item_id": menu.cake}])
    body["customer"]["email"] = address
    phoned = await client.post("/api/staff/orders", json=body, headers=STAFF_HEADERS)
    assert phoned.status_code == 422, phoned.text
    assert phoned.json()["type"] == "/problems/invalid-email"
    signed_up = await client.post(
        "/api/accounts",
        json={"email": address, "password": PASSWORD, "name": "Ada"},
        headers=CSRF,
    )
    assert signed_up.status_code == 422, signed_up.text
    assert signed_up.json()["type"] == "/problems/invalid-email"
    written = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT count(*) FROM account) AS accounts"
        )
    ).fetchone()
    assert written == {"orders": 0, "accounts": 0}


async def test_an_order_stored_with_a_list_mails_no_one_and_its_job_fails(
    settings: Settings, menu: FixtureMenu, conn: Conn, mail_server: tuple[MailServer, str]
) -> None:
    """An order written before checkout checked addresses may hold a list: its next message
    fails with the reason, and is sent to no one."""
    server, url = mail_server
    async with mailing(settings, url) as client:
        placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        order = placed.json()

        async def confirmed() -> bool:
            return server.delivered == [["ada@example.com"]]

        await eventually(confirmed)
        await conn.execute(
            "UPDATE orders SET email = 'a@x.com,b@x.com,c@x.com' WHERE id = %s", [order["number"]]
        )
        moved = await client.post(
            f"/api/staff/orders/{order['number']}/status",
            json={"status": "accepted"},
            headers=STAFF_HEADERS,
        )
        assert moved.status_code == 200, moved.text

        async def accepted_failed() -> bool:
            row = await (
                await conn.execute("SELECT state FROM outbox WHERE event_key LIKE '%:accepted'")
            ).fetchone()
            return row is not None and row["state"] == "failed"

        await eventually(accepted_failed)
        job = await the_job(conn, "email")
        assert job["last_error"].startswith("not one email address: ")
    assert server.delivered == [["ada@example.com"]]
    assert [address for _, address in server.tried] == ["ada@example.com"]


async def test_the_sender_sends_to_its_one_recipient_whatever_the_headers_say(
    mail_server: tuple[MailServer, str],
) -> None:
    server, url = mail_server
    message = EmailMessage()
    message["From"] = "orders@gourmet.example"
    message["To"] = "a@example.com, b@example.com"
    message["Cc"] = "c@example.com"
    message["Subject"] = "Order 1 confirmed"
    message.set_content("Thank you.")
    await SmtpSender(url).send(message, "a@example.com")
    assert server.delivered == [["a@example.com"]]
