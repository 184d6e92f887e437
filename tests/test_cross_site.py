"""Cross-site request forgery, door by door: every route that changes something, sent the ways
another site's page could send it with the victim's cookies (no custom header, as a form or a
no-cors fetch would; or the header with another site's ``Origin`` or ``Sec-Fetch-Site``, as a
fetch would were a CORS rule ever to let the header through). None may act as the victim: staff
routes answer 403 and change nothing, a checkout is a guest's, sign-in, sign-up and sign-out
refuse. What another site can send without a preflight (a no-cors fetch or a form, as text/plain)
is refused at every JSON door, a checkout's included (415). The table must name every writing
route the app has, so a new one cannot be forgotten.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from gourmet.accounts.guards import SESSION_COOKIE, STAFF_COOKIE
from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF, PASSWORD, sign_up
from tests.conftest import STAFF_TOKEN, FixtureMenu, application_tables
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

SAFE = {"GET", "HEAD", "OPTIONS"}
EVIL = "https://evil.example"
FORGERIES: dict[str, dict[str, str]] = {
    "no custom header": {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    "no custom header, no Origin": {},
    "header, another Origin": {**CSRF, "Origin": EVIL},
    "header, Sec-Fetch-Site cross-site": {**CSRF, "Sec-Fetch-Site": "cross-site"},
    "header, a sibling subdomain": {**CSRF, "Sec-Fetch-Site": "same-site"},
    "header, an opaque Origin": {**CSRF, "Origin": "null"},
}
# Rows whose change is the point of a refusal (a counted guess), not the victim's doing.
# Written by background chores, not by any request: a forged request is judged by the rest.
VOLATILE = {"rate_counter", "stock_reset"}


@dataclass(frozen=True)
class Door:
    """A writing route: how the victim's browser would be made to call it, and what a forged
    call may do at most."""

    kind: str  # "staff": 403 and nothing changes; "guest", "session": see the tests
    body: Callable[[FixtureMenu], Any] = lambda _menu: {}


STAFF_DOOR = Door("staff")
DOORS: dict[tuple[str, str], Door] = {
    ("POST", "/api/orders"): Door("guest", lambda m: checkout_body([{"item_id": m.cake}])),
    ("POST", "/api/accounts"): Door(
        "session", lambda _m: {"email": "eve@example.com", "password": PASSWORD, "name": "Eve"}
    ),
    ("POST", "/api/session"): Door(
        "session", lambda _m: {"email": "eve@example.com", "password": PASSWORD}
    ),
    ("DELETE", "/api/session"): Door("session"),
    ("POST", "/api/me/delete"): Door("session", lambda _m: {"password": PASSWORD}),
    ("POST", "/api/password-resets"): Door("session", lambda _m: {"email": "eve@example.com"}),
    ("POST", "/api/password-resets/use"): Door(
        "session", lambda _m: {"token": "a-token", "password": PASSWORD}
    ),
    ("POST", "/ops/login"): Door("form"),
    # The tracking token in the path is the credential here, not a cookie: a page that knows
    # it can do no more than its owner's own link allows.
    ("POST", "/api/orders/{token:str}/payment"): Door("token"),
    ("POST", "/api/orders/{token:str}/pay-at-pickup"): Door("token"),
    ("POST", "/api/orders/{token:str}/cancel"): Door("token"),
    ("POST", "/api/orders/{token:str}/payment-intent"): Door("token"),
    # Stripe's signature over the body is the credential; no cookie is read. Forged, stale and
    # replayed signatures: tests/payments/test_stripe.py.
    ("POST", "/api/payments/stripe/webhook"): Door("signed"),
}
STAFF_PATHS = {
    ("POST", "/api/admin/accounts"),
    ("PATCH", "/api/admin/accounts/{account_id:int}"),
    ("DELETE", "/api/admin/accounts/{account_id:int}"),
    ("POST", "/api/staff/orders/{order_id:int}/status"),
    ("POST", "/api/staff/orders"),
    ("POST", "/api/staff/busy"),
    ("POST", "/api/staff/orders/{order_id:int}/print"),
    ("POST", "/api/manage/categories"),
    ("DELETE", "/api/manage/categories/{category_id:int}"),
    ("PATCH", "/api/manage/categories/{category_id:int}"),
    ("POST", "/api/manage/items"),
    ("PATCH", "/api/manage/items/{item_id:int}"),
    ("PUT", "/api/manage/items/{item_id:int}/modifiers"),
    ("POST", "/api/manage/items/{item_id:int}/availability"),
    ("POST", "/api/manage/items/{item_id:int}/stock"),
    ("PUT", "/api/manage/settings"),
    ("PUT", "/api/manage/details"),
    ("PUT", "/api/manage/hours"),
    ("PUT", "/api/manage/special-days"),
    ("PUT", "/api/manage/capacity/{fulfilment:str}"),
    ("POST", "/api/manage/zones"),
    ("DELETE", "/api/manage/zones/{zone_id:int}"),
    ("PATCH", "/api/manage/zones/{zone_id:int}"),
    ("POST", "/api/manage/pause"),
    ("POST", "/api/manage/orders/{number:int}/refunds"),
    ("POST", "/api/ops/incidents"),
    ("POST", "/api/ops/incidents/{incident_id:int}"),
}
DOORS.update(dict.fromkeys(STAFF_PATHS, STAFF_DOOR))


async def test_every_writing_route_is_in_the_table(app: Litestar) -> None:
    writing = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods - SAFE
    }
    assert writing == set(DOORS)


async def snapshot(conn: Conn) -> dict[str, Any]:
    """Every row of every table (but the counters of refused guesses), as JSON."""
    tables = [t for t in await application_tables(conn) if t not in VOLATILE]
    rows = {}
    for table in tables:
        cursor = await conn.execute(f"SELECT coalesce(json_agg(t), '[]') AS j FROM {table} t")
        row = await cursor.fetchone()
        assert row is not None
        rows[table] = row["j"]
    return rows


def concrete(path: str) -> str:
    """The template with ids that exist in the fixture menu (1) or any value: a refusal must
    come before the route looks anything up."""
    return (
        path.replace("{fulfilment:str}", "pickup")
        .replace("{token:str}", "some-token")
        .replace(":int}", "}")
        .format(
            order_id=1, number=1, account_id=1, category_id=1, item_id=1, zone_id=1, incident_id=1
        )
    )


STAFF_CREDENTIALS = {
    "staff cookie": {"Cookie": f"{STAFF_COOKIE}={STAFF_TOKEN}"},
}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize(("method", "path"), sorted(STAFF_PATHS))
async def test_a_forged_staff_write_is_refused_and_changes_nothing(
    client: Client, conn: Conn, menu: FixtureMenu, method: str, path: str, forgery: str
) -> None:
    """The staff token's cookie (it admits at every role) on every staff, manager and admin
    route: 403 csrf, before the body is even read, and every table as it was."""
    before = await snapshot(conn)
    headers = {**STAFF_CREDENTIALS["staff cookie"], **FORGERIES[forgery]}
    response = await client.request(method, concrete(path), json={}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "/problems/csrf"
    assert await snapshot(conn) == before


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_checkout_is_a_guests_never_the_victims(
    client: Client, conn: Conn, menu: FixtureMenu, forgery: str
) -> None:
    """A cross-site checkout with the victim's session cookie: an order may be placed (anyone
    may order as a guest), but it is not filed under the victim's account, so it is not in
    their history and uses nothing of theirs."""
    ada = await sign_up(client, "ada@example.com")
    response = await client.post(
        "/api/orders",
        json=checkout_body([{"item_id": menu.cake}]),
        headers={**ada, **FORGERIES[forgery]},
    )
    assert response.status_code == 201, response.text
    row = await (
        await conn.execute(
            "SELECT account_id FROM orders WHERE token = %s", [response.json()["token"]]
        )
    ).fetchone()
    assert row == {"account_id": None}
    history = await client.get("/api/me/orders", headers=ada)
    assert history.json() == [] or history.json().get("orders") == [], history.text


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("path", ["/api/session", "/api/accounts"])
async def test_login_csrf_signs_nobody_in(
    client: Client, conn: Conn, menu: FixtureMenu, path: str, forgery: str
) -> None:
    """Another site posting the attacker's credentials (to sign the victim's browser into an
    account the attacker then reads): refused, no cookie set, no account made."""
    await sign_up(client, "eve@example.com")
    before = await snapshot(conn)
    door = DOORS[("POST", path)]
    response = await client.post(path, json=door.body(menu), headers=FORGERIES[forgery])
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "/problems/csrf"
    assert SESSION_COOKIE not in response.cookies
    assert await snapshot(conn) == before


async def test_a_text_plain_form_cannot_sign_in(client: Client, menu: FixtureMenu) -> None:
    """The classic login CSRF: a form with ``enctype="text/plain"`` whose body happens to be
    JSON. Not JSON: refused before the credentials are even looked at."""
    await sign_up(client, "eve@example.com")
    response = await client.post(
        "/api/session",
        content=f'{{"email": "eve@example.com", "password": "{PASSWORD}", "x": "="}}',
        headers={"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 415, response.text
    assert SESSION_COOKIE not in response.cookies


NO_CORS = {
    "Content-Type": "text/plain",
    "Origin": EVIL,
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
}


@pytest.mark.parametrize(
    ("method", "path"),
    sorted(key for key, door in DOORS.items() if door.kind in {"guest", "session", "token"}),
)
async def test_a_no_cors_text_plain_post_is_refused_and_changes_nothing(
    client: Client, conn: Conn, menu: FixtureMenu, method: str, path: str
) -> None:
    """Another site's page needs no preflight for a text/plain body (a no-cors fetch, a form):
    with the victim's session, each customer door refuses it and nothing changes. A checkout,
    which a guest may place, is refused for the body's type (415), not merely filed as a
    guest's."""
    ada = await sign_up(client, "ada@example.com")
    before = await snapshot(conn)
    body = DOORS[(method, path)].body(menu)
    response = await client.request(
        method, concrete(path), content=json.dumps(body), headers={**ada, **NO_CORS}
    )
    assert response.status_code in (403, 404, 415), response.text
    if path == "/api/orders":
        assert response.status_code == 415, response.text
    assert SESSION_COOKIE not in response.cookies
    assert await snapshot(conn) == before


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_sign_out_leaves_the_session(
    client: Client, menu: FixtureMenu, forgery: str
) -> None:
    ada = await sign_up(client, "ada@example.com")
    response = await client.delete("/api/session", headers={**ada, **FORGERIES[forgery]})
    assert response.status_code == 403, response.text
    assert (await client.get("/api/me", headers=ada)).status_code == 200


@pytest.mark.parametrize("forgery", ["no custom header", "header, another Origin"])
async def test_the_staff_sign_in_form_refuses_another_sites_post(
    client: Client, menu: FixtureMenu, forgery: str
) -> None:
    """The ops sign-in is a plain form (no custom header possible), so it is the browser's
    ``Origin`` and ``Sec-Fetch-Site`` that tell another site's post: refused, no staff cookie,
    even with the right token. From Gourmet's own page it signs in."""
    body = {"token": STAFF_TOKEN, "next": "/ops"}
    forged = await client.post("/ops/login", data=body, headers=FORGERIES[forgery])
    assert forged.status_code == 403, forged.text
    assert STAFF_COOKIE not in forged.cookies
    own = await client.post(
        "/ops/login",
        data=body,
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 303
    assert own.cookies.get(STAFF_COOKIE) == STAFF_TOKEN


async def test_gourmets_own_pages_still_write(client: Client, menu: FixtureMenu) -> None:
    """The same requests from Gourmet's own pages (the header, same-origin) are taken: the
    refusals above are for the forgery, not for the route."""
    own = {**CSRF, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    staff = {**STAFF_CREDENTIALS["staff cookie"], **own}
    paused = await client.post(
        "/api/manage/pause", json={"paused": True, "message": "Back soon"}, headers=staff
    )
    assert paused.status_code == 200, paused.text
    ada = await sign_up(client, "ada@example.com")
    signed_out = await client.delete("/api/session", headers={**ada, **own})
    assert signed_out.status_code == 204, signed_out.text
