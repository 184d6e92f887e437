"""Who did it comes from the credentials: the kitchen's status changes name the account (or the
shared token), an incident's author is not what a header claims, and an Idempotency-Key used by
one customer opens nothing for another. A sign-in ends the session the browser held."""

from __future__ import annotations

import pytest

from gourmet.accounts.guards import SESSION_COOKIE
from tests.accounts.helpers import CSRF, PASSWORD, sign_in, sign_up
from tests.accounts.test_roles import create_staff
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_a_status_change_names_who_made_it(client: Client, menu: FixtureMenu) -> None:
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    order = placed.json()
    await create_staff(client, "sam@example.com")
    sam = await sign_in(client, "sam@example.com")
    path = f"/api/staff/orders/{order['number']}/status"
    by_sam = await client.post(path, json={"status": "accepted"}, headers={**sam, **CSRF})
    assert by_sam.status_code == 200, by_sam.text
    by_token = await client.post(path, json={"status": "preparing"}, headers=STAFF_HEADERS)
    assert by_token.status_code == 200, by_token.text
    history = (await client.get(f"/api/orders/{order['token']}")).json()["history"]
    actors = {h["status"]: h["actor"] for h in history}
    assert actors["accepted"] == "sam@example.com"
    assert actors["preparing"] == "staff token"


async def test_an_incident_author_is_the_account_not_the_header(
    client: Client, menu: FixtureMenu
) -> None:
    await create_staff(client, "maya@example.com", role="manager")
    maya = await sign_in(client, "maya@example.com")
    posted = await client.post(
        "/api/ops/incidents",
        json={"title": "Slow", "state": "investigating", "message": "Busy"},
        headers={**maya, **CSRF, "X-Operator": "the owner"},
    )
    assert posted.status_code == 201, posted.text
    incident = posted.json()["incidents"][0]
    assert incident["updates"][0]["author"] == "maya@example.com"
    # The shared token names nobody: a name it gives is shown as said, never as an account.
    update = await client.post(
        f"/api/ops/incidents/{incident['id']}",
        json={"state": "resolved", "message": "Fine"},
        headers={**STAFF_HEADERS, "X-Operator": "maya@example.com"},
    )
    author = update.json()["incidents"][0]["updates"][0]["author"]
    assert author == "staff token, signed 'maya@example.com'"


async def test_another_customer_replaying_a_key_is_refused_and_sees_no_order(
    client: Client, menu: FixtureMenu
) -> None:
    body = checkout_body([{"item_id": menu.cake}])
    key = {"Idempotency-Key": "shared-key-1"}
    ada = await sign_up(client, "ada@example.com")
    first = await client.post("/api/orders", json=body, headers={**ada, **CSRF, **key})
    assert first.status_code == 201, first.text
    again = await client.post("/api/orders", json=body, headers={**ada, **CSRF, **key})
    assert again.status_code == 200
    assert again.json()["token"] == first.json()["token"]
    bob = await sign_up(client, "bob@example.com")
    other = await client.post("/api/orders", json=body, headers={**bob, **CSRF, **key})
    anonymous = await client.post("/api/orders", json=body, headers=key)
    for refused in (other, anonymous):
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/idempotency-key-reused"
        assert first.json()["token"] not in refused.text


async def test_signing_in_again_ends_the_session_the_browser_held(
    client: Client, menu: FixtureMenu
) -> None:
    first = await sign_up(client, "ada@example.com")
    assert (await client.get("/api/me", headers=first)).status_code == 200
    # The browser still sends its old cookie when it signs in again (or a planted one).
    again = await client.post(
        "/api/session",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={**first, **CSRF},
    )
    assert again.status_code == 200, again.text
    new = again.cookies.get(SESSION_COOKIE)
    assert new
    renewed = {"Cookie": f"{SESSION_COOKIE}={new}"}
    assert renewed != first
    client.cookies.clear()
    assert (await client.get("/api/me", headers=first)).status_code == 401
    assert (await client.get("/api/me", headers=renewed)).status_code == 200
