"""An admin manages the staff's accounts: lists them, changes a role, removes one (its sessions
end); the last admin can be neither demoted nor removed, also when two admins try at once;
customers' accounts are not staff's to touch; nobody but an admin gets in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gourmet.accounts.guards import SESSION_COOKIE
from tests.accounts.helpers import CSRF, PASSWORD, session_headers, sign_up
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/admin/accounts"


async def make(client: Client, email: str, role: str) -> dict[str, Any]:
    made = await client.post(
        API, json={"email": email, "password": PASSWORD, "role": role}, headers=STAFF_HEADERS
    )
    assert made.status_code == 201, made.text
    account: dict[str, Any] = made.json()
    return account


async def session_of(client: Client, email: str) -> dict[str, str]:
    signed = await client.post(
        "/api/session", json={"email": email, "password": PASSWORD}, headers=CSRF
    )
    assert signed.status_code == 200, signed.text
    return session_headers(client, signed.cookies.get(SESSION_COOKIE))


async def test_an_admin_lists_changes_and_removes_staff_accounts(
    client: Client, menu: FixtureMenu
) -> None:
    cook = await make(client, "cook@example.com", "staff")
    boss = await make(client, "boss@example.com", "admin")
    await sign_up(client, "ada@example.com")  # a customer: not listed
    listed = await client.get(API, headers=STAFF_HEADERS)
    assert [(a["email"], a["role"]) for a in listed.json()] == [
        ("boss@example.com", "admin"),
        ("cook@example.com", "staff"),
    ]
    promoted = await client.patch(
        f"{API}/{cook['id']}", json={"role": "manager"}, headers=STAFF_HEADERS
    )
    assert (promoted.status_code, promoted.json()["role"]) == (200, "manager")
    cook_session = await session_of(client, "cook@example.com")
    assert (await client.get("/api/manage/reports", headers=cook_session)).status_code == 200
    removed = await client.delete(f"{API}/{cook['id']}", headers=STAFF_HEADERS)
    assert removed.status_code == 204
    assert (await client.get("/api/me", headers=cook_session)).status_code == 401
    boss_session = await session_of(client, "boss@example.com")
    refused = await client.get(API, headers=cook_session)
    assert refused.status_code == 401
    assert (await client.get(API, headers=boss_session)).status_code == 200
    assert boss["role"] == "admin"


async def test_the_last_admin_stays_even_when_two_try_at_once(
    client: Client, menu: FixtureMenu
) -> None:
    first = await make(client, "first@example.com", "admin")
    second = await make(client, "second@example.com", "admin")
    answers = await asyncio.gather(
        client.patch(f"{API}/{first['id']}", json={"role": "staff"}, headers=STAFF_HEADERS),
        client.delete(f"{API}/{second['id']}", headers=STAFF_HEADERS),
    )
    assert sorted(a.status_code for a in answers) in ([200, 409], [204, 409])
    listed = (await client.get(API, headers=STAFF_HEADERS)).json()
    assert [a["role"] for a in listed].count("admin") == 1
    (last,) = [a for a in listed if a["role"] == "admin"]
    kept = await client.delete(f"{API}/{last['id']}", headers=STAFF_HEADERS)
    assert kept.status_code == 409
    assert kept.json()["type"].endswith("/last-admin")


async def test_customers_and_bad_roles_are_refused(client: Client, menu: FixtureMenu) -> None:
    ada = await sign_up(client, "ada@example.com")
    assert (await client.get(API, headers=STAFF_HEADERS)).json() == []
    customer_id = (await client.get("/api/me", headers=ada)).json()["id"]
    assert (await client.delete(f"{API}/{customer_id}", headers=STAFF_HEADERS)).status_code == 404
    cook = await make(client, "cook@example.com", "staff")
    for role in ("customer", "owner"):
        bad = await client.patch(f"{API}/{cook['id']}", json={"role": role}, headers=STAFF_HEADERS)
        assert bad.status_code == 400, bad.text
    assert (await client.get(API, headers=STAFF_HEADERS)).json()[0]["role"] == "staff"
