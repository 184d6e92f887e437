"""Customers' accounts through the API: sign up, sign in, sessions, and their orders."""

from __future__ import annotations

import pytest
from litestar import Litestar

from gourmet.accounts.guards import SESSION_COOKIE
from gourmet.db.types import Conn
from gourmet.services import runtime_of
from tests.accounts.helpers import CSRF, PASSWORD, session_headers, sign_in, sign_up
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_sign_up_sets_a_session_cookie_and_stores_an_argon2_hash(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    response = await client.post(
        "/api/accounts",
        json={"email": "  Ada@Example.COM ", "password": PASSWORD, "name": "Ada"},
        headers=CSRF,
    )
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "ada@example.com"
    assert response.json()["role"] == "customer"
    assert "password" not in response.text
    set_cookie = response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "secure" not in set_cookie.replace("samesite", "")  # cookie_secure is off in tests
    row = await (await conn.execute("SELECT email, password_hash FROM account")).fetchone()
    assert row is not None
    assert row["email"] == "ada@example.com"
    assert row["password_hash"].startswith("$argon2")
    assert PASSWORD not in row["password_hash"]


async def test_orders_placed_while_signed_in_are_the_customers(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    guest = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert guest.status_code == 201, guest.text
    ada = await sign_up(client, "ada@example.com")
    me = await client.get("/api/me", headers=ada)
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    first = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}]), headers={**ada, **CSRF}
    )
    second = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.soup}]), headers={**ada, **CSRF}
    )
    assert first.status_code == second.status_code == 201

    mine = await client.get("/api/me/orders", headers=ada)
    assert mine.status_code == 200
    assert [o["token"] for o in mine.json()] == [second.json()["token"], first.json()["token"]]
    owners = await (
        await conn.execute("SELECT token, account_id FROM orders ORDER BY id")
    ).fetchall()
    assert owners[0]["account_id"] is None  # the guest's
    assert owners[1]["account_id"] == owners[2]["account_id"] == me.json()["id"]

    grace = await sign_up(client, "grace@example.com")
    theirs = await client.get("/api/me/orders", headers=grace)
    assert theirs.json() == []


async def test_a_stale_session_still_orders_as_a_guest(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    stale = {"Cookie": f"{SESSION_COOKIE}=not-a-session"}
    response = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}]), headers=stale
    )
    assert response.status_code == 201, response.text
    row = await (await conn.execute("SELECT account_id FROM orders")).fetchone()
    assert row is not None
    assert row["account_id"] is None


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"email": "ADA@example.com", "password": PASSWORD}, 409, "email-taken"),
        ({"email": "bob@example.com", "password": "short"}, 422, "weak-password"),
        ({"email": "not-an-email", "password": PASSWORD}, 422, "invalid-email"),
    ],
)
async def test_sign_up_refusals_are_problems(
    client: Client, menu: FixtureMenu, body: dict[str, str], status: int, slug: str
) -> None:
    await sign_up(client, "ada@example.com")
    response = await client.post("/api/accounts", json=body, headers=CSRF)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"/problems/{slug}"


async def test_me_without_a_session_is_401(client: Client, menu: FixtureMenu) -> None:
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/api/me/orders")).status_code == 401


async def test_wrong_password_and_unknown_email_get_the_same_401(
    client: Client, menu: FixtureMenu
) -> None:
    await sign_up(client, "ada@example.com")
    client.cookies.clear()
    wrong = await client.post(
        "/api/session",
        json={"email": "ada@example.com", "password": "wrong password!"},
        headers=CSRF,
    )
    unknown = await client.post(
        "/api/session", json={"email": "nobody@example.com", "password": PASSWORD}, headers=CSRF
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert SESSION_COOKIE not in wrong.cookies
    headers = await sign_in(client, "ADA@example.com")
    assert (await client.get("/api/me", headers=headers)).json()["email"] == "ada@example.com"


async def test_the_sixth_wrong_attempt_is_throttled(client: Client, menu: FixtureMenu) -> None:
    await sign_up(client, "ada@example.com")
    client.cookies.clear()
    for attempt in range(5):
        response = await client.post(
            "/api/session",
            json={"email": "ada@example.com", "password": f"guess {attempt}"},
            headers=CSRF,
        )
        assert response.status_code == 401
    # Even the right password waits now: the attacker cannot tell a hit from the pause.
    refused = await client.post(
        "/api/session", json={"email": "ada@example.com", "password": PASSWORD}, headers=CSRF
    )
    assert refused.status_code == 429
    assert refused.json()["type"] == "/problems/too-many-attempts"
    assert int(refused.headers["Retry-After"]) > 0


async def test_sign_out_ends_the_session(client: Client, menu: FixtureMenu) -> None:
    ada = await sign_up(client, "ada@example.com")
    forged = await client.delete("/api/session", headers=ada)
    assert forged.status_code == 403  # no CSRF header: a cross-site request cannot sign us out
    assert (await client.get("/api/me", headers=ada)).status_code == 200
    response = await client.delete("/api/session", headers={**ada, **CSRF})
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=ada)).status_code == 401
    # Signing in again gives a new session.
    again = await sign_in(client, "ada@example.com")
    assert (await client.get("/api/me", headers=again)).status_code == 200


async def test_session_cookie_is_secure_when_configured(
    client: Client, menu: FixtureMenu, app: Litestar
) -> None:
    runtime = runtime_of(app)
    runtime.settings = runtime.settings.changed(security={"cookie_secure": True})
    response = await client.post(
        "/api/accounts", json={"email": "ada@example.com", "password": PASSWORD}, headers=CSRF
    )
    assert "secure" in response.headers["set-cookie"].lower().replace("samesite", "")
    assert session_headers(client, response.cookies.get(SESSION_COOKIE))


async def test_another_site_cannot_sign_a_visitor_in_or_up(
    client: Client, menu: FixtureMenu
) -> None:
    """Login CSRF: a cross-site form (any Content-Type, no custom header) posting the attacker's
    credentials would sign the visitor into the attacker's account. Without the header that
    only Gourmet's pages send, sign-in and sign-up are refused and no cookie is set."""
    await sign_up(client, "mallory@example.com")
    client.cookies.clear()
    for path, body in (
        ("/api/session", {"email": "mallory@example.com", "password": PASSWORD}),
        ("/api/accounts", {"email": "eve@example.com", "password": PASSWORD}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "/problems/csrf"
        assert SESSION_COOKIE not in response.cookies


async def test_a_checkout_not_from_our_pages_is_never_filed_under_the_account(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    ada = await sign_up(client, "ada@example.com")
    forged = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}]), headers=ada
    )
    assert forged.status_code == 201  # the order stands, as a guest's
    assert (await client.get("/api/me/orders", headers=ada)).json() == []
    row = await (await conn.execute("SELECT account_id FROM orders")).fetchone()
    assert row is not None
    assert row["account_id"] is None
