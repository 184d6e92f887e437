"""Finding 5 of 2026-12-07: strict typing held only for bodies labelled JSON. A ``text/plain``
body was decoded as JSON all the same, laxly: ``"quantity": "3"`` placed 3 units, ``"override":
"true"`` overrode a full slot, and a page on another site placed guest orders with its visitors'
browsers (a no-cors ``text/plain`` fetch needs no preflight). Routes that take JSON now take
JSON only: anything else is a 415 problem naming the accepted types, and nothing is done."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute

from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF
from tests.conftest import STAFF_HEADERS, STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client
from tests.test_cross_site import EVIL, concrete, snapshot

pytestmark = pytest.mark.anyio

TEXT = {"Content-Type": "text/plain"}
# Who may otherwise act on each route, so that a refusal is for the content type alone.
ACTOR = {**STAFF_HEADERS, **CSRF}


async def orders(conn: Conn) -> list[dict[str, Any]]:
    cursor = await conn.execute("SELECT id, token FROM orders ORDER BY id")
    return await cursor.fetchall()


def assert_415(response: Any) -> None:
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 415
    assert problem["type"] == "/problems/unsupported-media-type"
    assert "application/json" in problem["detail"]
    assert problem["accepted"] == ["application/json", "application/*+json"]


async def test_a_text_plain_checkout_with_a_quantity_as_text_is_415_and_places_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    """The probe's request: ``"quantity": "3"`` as text/plain placed 3 cakes."""
    before = await orders(conn)
    body = checkout_body([{"item_id": menu.cake, "quantity": "3"}])
    response = await client.post("/api/orders", content=json.dumps(body), headers=TEXT)
    assert_415(response)
    assert response.headers["accept-post"] == "application/json, application/*+json"
    assert await orders(conn) == before


async def test_a_text_plain_phone_order_with_an_override_as_text_is_415_and_places_nothing(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    """The manager's phone order: ``"override": "true"`` as text/plain was read as true."""
    before = await orders(conn)
    body = {
        **checkout_body([{"item_id": menu.cake}]),
        "payment": "pay_at_pickup",
        "override": "true",
    }
    response = await client.post(
        "/api/staff/orders", content=json.dumps(body), headers={**STAFF_HEADERS, **TEXT}
    )
    assert_415(response)
    assert await orders(conn) == before


async def test_a_no_cors_text_plain_fetch_from_another_site_is_refused(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    """What another site's page can send with a visitor's browser without a preflight: a
    text/plain body, the browser's Origin and Sec-Fetch-Site, no custom header."""
    before = await orders(conn)
    response = await client.post(
        "/api/orders",
        content=json.dumps(checkout_body([{"item_id": menu.cake}])),
        headers={
            **TEXT,
            "Origin": EVIL,
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "no-cors",
        },
    )
    assert_415(response)
    assert await orders(conn) == before


async def test_json_routes_take_json_in_any_json_type_and_nothing_else(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    """JSON clients are served as before (with a charset, or a +json type); every other type,
    or none, is a 415 before anything is read or written."""
    body = json.dumps(checkout_body([{"item_id": menu.cake}])).encode()
    outcomes: dict[str | None, int] = {}
    for content_type in (
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.gourmet.order+json",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/jsonp",
        None,
    ):
        headers = {} if content_type is None else {"Content-Type": content_type}
        answer = await client.post("/api/orders", content=body, headers=headers)
        outcomes[content_type] = answer.status_code
        if answer.status_code == 415:
            assert_415(answer)
    assert outcomes == {
        "application/json": 201,
        "application/json; charset=utf-8": 201,
        "Application/JSON": 201,
        "application/vnd.gourmet.order+json": 201,
        "text/plain": 415,
        "text/plain; charset=utf-8": 415,
        "application/x-www-form-urlencoded": 415,
        "multipart/form-data; boundary=x": 415,
        "text/json": 415,
        "application/jsonp": 415,
        None: 415,
    }
    assert len(await orders(conn)) == 4


FORMS = {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}


def body_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """Every (method, route, takes JSON) whose handler reads a body: JSON unless declared a
    form (Litestar's default for ``data`` is JSON)."""
    routes = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_data_field
            if data is None:
                continue
            media_type = getattr(data.kwarg_definition, "media_type", None)
            routes += [
                (method, route.path, media_type not in FORMS) for method in handler.http_methods
            ]
    return sorted(routes)


async def test_every_json_route_refuses_text_plain_and_the_form_route_takes_its_form(
    app: Litestar, client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    """Each route that reads a body, with credentials that would let it act: a JSON route
    answers a text/plain body 415 and changes nothing; the staff sign-in, a plain HTML form
    (URL-encoded), still signs in from Gourmet's own page."""
    routes = body_routes(app)
    forms = [(method, path) for method, path, json_only in routes if not json_only]
    assert forms == [("POST", "/ops/login")]
    before = await snapshot(conn)
    for method, path, json_only in routes:
        if json_only:
            response = await client.request(
                method, concrete(path), content="{}", headers={**ACTOR, **TEXT}
            )
            assert response.status_code == 415, f"{method} {path}: {response.text}"
    assert await snapshot(conn) == before
    own_page = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    signed_in = await client.post(
        "/ops/login", data={"token": STAFF_TOKEN, "next": "/ops"}, headers=own_page
    )
    assert signed_in.status_code == 303, signed_in.text
