"""A customer takes their data and leaves: the download holds the account and every order; a
deleted account asks for the password, ends every session and keeps the orders in the books
without the customer's name, phone, email or address; staff accounts are an admin's to remove."""

from __future__ import annotations

import pytest

from gourmet.accounts.guards import SESSION_COOKIE
from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF, PASSWORD, session_headers, sign_up
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

DELIVERY = {"line1": "1 High St", "postcode": "AB1 2CD", "city": "Town"}


async def test_a_customer_downloads_everything_kept_of_them(
    client: Client, menu: FixtureMenu
) -> None:
    ada = await sign_up(client, "ada@example.com")
    body = checkout_body([{"item_id": menu.cake}], notes="ring twice")
    placed = await client.post("/api/orders", json=body, headers={**ada, **CSRF})
    assert placed.status_code == 201
    data = await client.get("/api/me/data", headers=ada)
    assert data.status_code == 200, data.text
    assert data.headers["content-disposition"] == 'attachment; filename="gourmet-my-data.json"'
    assert data.json()["account"]["email"] == "ada@example.com"
    assert [o["notes"] for o in data.json()["orders"]] == ["ring twice"]
    assert (await client.get("/api/me/data")).status_code == 401


async def test_a_deleted_account_leaves_its_orders_without_the_customer(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    ada = await sign_up(client, "ada@example.com")
    body = checkout_body(
        [{"item_id": menu.cake, "quantity": 4}],
        fulfilment="delivery",
        address=DELIVERY,
        notes="blue door",
    )
    placed = await client.post("/api/orders", json=body, headers={**ada, **CSRF})
    assert placed.status_code == 201, placed.text
    wrong = await client.post(
        "/api/me/delete", json={"password": "not it at all"}, headers={**ada, **CSRF}
    )
    assert wrong.status_code == 401
    assert (await client.get("/api/me", headers=ada)).status_code == 200  # unchanged
    gone = await client.post("/api/me/delete", json={"password": PASSWORD}, headers={**ada, **CSRF})
    assert gone.status_code == 204, gone.text
    assert (
        'gourmet_session=""' in gone.headers["set-cookie"]
        or SESSION_COOKIE in gone.headers["set-cookie"]
    )
    assert (await client.get("/api/me", headers=ada)).status_code == 401
    signing_in = await client.post(
        "/api/session", json={"email": "ada@example.com", "password": PASSWORD}, headers=CSRF
    )
    assert signing_in.status_code == 401
    order = (await client.get(f"/api/orders/{placed.json()['token']}")).json()
    assert (order["customer_name"], order["phone"], order["notes"]) == (
        "Deleted customer",
        "-----",
        "",
    )
    assert order["address"] is None  # nothing left to show of it
    assert order["totals"] == placed.json()["totals"]  # the books keep the money
    row = await (
        await conn.execute(
            "SELECT email, account_id, address_line, postcode FROM orders WHERE token = %s",
            (order["token"],),
        )
    ).fetchone()
    assert row == {"email": None, "account_id": None, "address_line": "", "postcode": ""}


async def test_a_staff_account_is_not_deleted_by_itself(client: Client, menu: FixtureMenu) -> None:
    made = await client.post(
        "/api/admin/accounts",
        json={"email": "cook@example.com", "password": PASSWORD, "role": "staff"},
        headers=STAFF_HEADERS,
    )
    assert made.status_code == 201, made.text
    signed = await client.post(
        "/api/session", json={"email": "cook@example.com", "password": PASSWORD}, headers=CSRF
    )
    cook = session_headers(client, signed.cookies.get(SESSION_COOKIE))
    refused = await client.post(
        "/api/me/delete", json={"password": PASSWORD}, headers={**cook, **CSRF}
    )
    assert refused.status_code == 403
    assert (await client.get("/api/me", headers=cook)).status_code == 200
