"""The public status feed tells what happened and when, never who wrote it: an incident's author
is a staff account's email (or what an operator signed with the shared token). The staff's own
views keep it."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import CSRF, sign_in
from tests.accounts.test_roles import create_staff
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.serving import Client

pytestmark = pytest.mark.anyio

STAFF_EMAIL = "maya@example.com"


async def test_the_public_feed_names_no_author(client: Client, menu: FixtureMenu) -> None:
    await create_staff(client, STAFF_EMAIL, role="manager")
    manager = await sign_in(client, STAFF_EMAIL)
    posted = await client.post(
        "/api/ops/incidents",
        json={"title": "Slow checkout", "state": "investigating", "message": "On it"},
        headers={**manager, **CSRF},
    )
    assert posted.status_code == 201, posted.text
    incident_id = posted.json()["incidents"][0]["id"]
    updated = await client.post(
        f"/api/ops/incidents/{incident_id}",
        json={"state": "identified", "message": "Found it"},
        headers={**STAFF_HEADERS, "X-Operator": "ops-lead@example.com"},
    )
    assert updated.status_code == 200, updated.text
    client.cookies.clear()

    public = await client.get("/api/status")
    page = await client.get("/status")

    assert public.status_code == 200
    updates = public.json()["incidents"][0]["updates"]
    assert [u["message"] for u in updates] == ["Found it", "On it"]
    assert all("author" not in u for u in updates)
    for answer in (public, page):
        assert STAFF_EMAIL not in answer.text
        assert "ops-lead@example.com" not in answer.text
        assert "staff token" not in answer.text
    staff = updated.json()["incidents"][0]["updates"]
    assert {u["author"] for u in staff} == {
        STAFF_EMAIL,
        "staff token, signed 'ops-lead@example.com'",
    }
