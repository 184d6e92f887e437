"""Who may manage: the staff credential on every route, the CSRF rule for browser sessions, the
console page behind the staff sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.management.helpers import assert_problem, snapshot
from tests.serving import Client

pytestmark = pytest.mark.anyio

CSRF = {"X-Requested-With": "gourmet"}

# Every route of the manager's API, with a body it would accept.
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/manage/menu", None),
    ("GET", "/api/manage/categories", None),
    ("POST", "/api/manage/categories", {"name": "New"}),
    ("PATCH", "/api/manage/categories/1", {"name": "Renamed"}),
    ("DELETE", "/api/manage/categories/1", None),
    ("POST", "/api/manage/items", {"category_id": 1, "name": "New", "price_cents": 100}),
    ("PATCH", "/api/manage/items/1", {"price_cents": 1}),
    ("PUT", "/api/manage/items/1/modifiers", {"groups": []}),
    ("POST", "/api/manage/items/1/availability", {"available": False}),
    ("POST", "/api/manage/items/1/stock", {"stock": 0}),
    ("GET", "/api/manage/restaurant", None),
    ("PUT", "/api/manage/settings", {"tax_rate_bp": 0, "slot_minutes": 5, "lead_minutes": 0}),
    ("PUT", "/api/manage/hours", {"periods": []}),
    ("PUT", "/api/manage/capacity/pickup", {"max_orders": 0}),
    ("GET", "/api/manage/zones", None),
    ("POST", "/api/manage/zones", {"name": "Z", "postcode_prefixes": ["Z"], "fee_cents": 0}),
    ("PATCH", "/api/manage/zones/1", {"fee_cents": 0}),
    ("DELETE", "/api/manage/zones/1", None),
    ("POST", "/api/manage/pause", {"paused": True}),
]


async def test_every_route_needs_the_staff_credential(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await snapshot(conn)
    for method, path, body in ROUTES:
        anonymous = await client.request(method, path, json=body)
        assert_problem(anonymous, 401, "unauthorized")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.request(
            method, path, json=body, headers={"Authorization": "Bearer not-the-token"}
        )
        assert_problem(wrong, 401, "unauthorized")
    assert await snapshot(conn) == before


async def test_browser_sessions_need_the_csrf_header(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    signed = await client.post("/ops/login", data={"token": STAFF_TOKEN, "next": "/manage"})
    assert signed.headers["location"] == "/manage"
    assert (await client.get("/api/manage/menu")).status_code == 200  # reads need no header
    before = await snapshot(conn)
    for method, path, body in ROUTES:
        if method != "GET":
            forged = await client.request(method, path, json=body)
            assert_problem(forged, 403, "csrf")
    assert await snapshot(conn) == before
    ours = await client.post(
        f"/api/manage/items/{menu.cake}/availability", json={"available": False}, headers=CSRF
    )
    assert ours.status_code == 200, ours.text


async def test_console_page_needs_a_staff_session(client: Client, menu: FixtureMenu) -> None:
    anonymous = await client.get("/manage")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/ops/login?next=/manage"
    client.cookies.set("gourmet_staff", "a-guess")
    assert (await client.get("/manage")).status_code == 303
    client.cookies.clear()

    await client.post("/ops/login", data={"token": STAFF_TOKEN, "next": "/manage"})
    page = await client.get("/manage")
    assert page.status_code == 200
    assert "/static/staff/manage.js" in page.text
    assert "/static/staff/manage.css" in page.text
    assert "<script>" not in page.text  # no inline script: the CSP below forbids it anyway
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "private, no-store"
    for asset in ("/static/staff/manage.js", "/static/staff/manage.css"):
        assert (await client.get(asset)).status_code == 200


async def test_the_api_is_documented(client: Client, menu: FixtureMenu) -> None:
    schema = (await client.get("/api/schema/openapi.json")).json()
    paths = schema["paths"]
    assert "/api/manage/items/{item_id}/availability" in paths
    assert "/manage" not in paths
    patch = paths["/api/manage/items/{item_id}"]["patch"]
    assert patch["tags"] == ["manage"]
