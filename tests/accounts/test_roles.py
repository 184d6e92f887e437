"""Roles: customers stay out of staff routes, admins create staff, the staff token is admin."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from gourmet.cli import app as cli
from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF, PASSWORD, sign_in, sign_up
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def create_staff(client: Client, email: str, role: str = "staff") -> None:
    response = await client.post(
        "/api/admin/accounts",
        json={"email": email, "password": PASSWORD, "role": role, "name": "Sam"},
        headers=STAFF_HEADERS,  # the shared staff token counts as admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == role


async def test_a_customer_session_is_refused_by_staff_routes(
    client: Client, menu: FixtureMenu
) -> None:
    ada = await sign_up(client, "ada@example.com")
    assert (await client.get("/api/staff/orders", headers=ada)).status_code == 403
    assert (await client.get("/api/manage/menu", headers=ada)).status_code == 403
    kitchen = await client.get("/kitchen", headers=ada)
    assert kitchen.status_code == 303
    assert kitchen.headers["location"].startswith("/ops/login")
    refused = await client.post(
        "/api/admin/accounts",
        json={"email": "me@example.com", "password": PASSWORD, "role": "admin"},
        headers={**ada, **CSRF},
    )
    assert refused.status_code == 403


async def test_staff_created_by_an_admin_can_use_staff_routes(
    client: Client, menu: FixtureMenu
) -> None:
    await create_staff(client, "sam@example.com")
    sam = await sign_in(client, "sam@example.com")
    assert (await client.get("/api/me", headers=sam)).json()["role"] == "staff"
    assert (await client.get("/api/staff/orders", headers=sam)).status_code == 200
    assert (await client.get("/kitchen", headers=sam)).status_code == 200
    assert (await client.get("/ops", headers=sam)).status_code == 200
    # Kitchen staff move orders; only managers change the menu and prices.
    assert (await client.get("/manage", headers=sam)).status_code == 303
    assert (await client.get("/api/manage/menu", headers=sam)).status_code == 403
    # Staff are not admins.
    refused = await client.post(
        "/api/admin/accounts",
        json={"email": "x@example.com", "password": PASSWORD, "role": "admin"},
        headers={**sam, **CSRF},
    )
    assert refused.status_code == 403


async def test_a_cookie_write_without_the_csrf_header_is_refused(
    client: Client, menu: FixtureMenu
) -> None:
    await create_staff(client, "sam@example.com")
    sam = await sign_in(client, "sam@example.com")
    order = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    number = order.json()["number"]
    path = f"/api/staff/orders/{number}/status"
    forged = await client.post(path, json={"status": "accepted"}, headers=sam)
    assert forged.status_code == 403
    assert forged.json()["type"] == "/problems/csrf"
    accepted = await client.post(path, json={"status": "accepted"}, headers={**sam, **CSRF})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"


async def test_admins_only_create_staff_roles(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/admin/accounts",
        json={"email": "c@example.com", "password": PASSWORD, "role": "customer"},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 400
    assert (
        await client.post(
            "/api/admin/accounts",
            json={"email": "c@example.com", "password": PASSWORD, "role": "staff"},
        )
    ).status_code == 401


async def test_create_admin_cli_makes_an_admin_who_can_sign_in(
    client: Client,
    menu: FixtureMenu,
    conn: Conn,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    args = ["users", "create-admin", "--email", "Root@Example.com", "--name", "Root"]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, args, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    row = await (await conn.execute("SELECT role, password_hash FROM account")).fetchone()
    assert row is not None
    assert row["role"] == "admin"
    assert row["password_hash"].startswith("$argon2")

    root = await sign_in(client, "root@example.com")
    assert (await client.get("/api/me", headers=root)).json()["role"] == "admin"
    created = await client.post(
        "/api/admin/accounts",
        json={"email": "manager@example.com", "password": PASSWORD, "role": "manager"},
        headers={**root, **CSRF},
    )
    assert created.status_code == 201, created.text
    manager = await sign_in(client, "manager@example.com")
    assert (await client.get("/api/manage/menu", headers=manager)).status_code == 200
    assert (await client.get("/manage", headers=manager)).status_code == 200

    again = await asyncio.to_thread(
        CliRunner().invoke, cli, args, input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert again.exit_code != 0
    assert "already exists" in again.output
    weak = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["users", "create-admin", "--email", "b@example.com"],
        input="short\nshort\n",
    )
    assert weak.exit_code != 0
