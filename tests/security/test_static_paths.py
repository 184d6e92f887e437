"""Paths under /static that name no file: a 404 problem that says nothing of the server's file
system, whatever the path holds (a NUL byte, a file used as a directory, a name too long)."""

from __future__ import annotations

import pytest

from gourmet.web import STATIC_DIR
from tests.conftest import FixtureMenu
from tests.serving import Client

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "path",
    [
        "/static/%00",
        "/static/customer/%00.css",
        "/static/customer/css/site.css/x",
        "/static/customer/",
        "/static/customer/css/missing.css",
        "/static/%2e%2e/__init__.py",
        "/static/" + "a" * 5000,
    ],
)
async def test_a_path_naming_no_file_is_a_plain_404_problem(
    client: Client, menu: FixtureMenu, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/not-found"
    assert str(STATIC_DIR) not in response.text
    assert "/work/" not in problem["detail"]
    assert "site-packages" not in response.text


async def test_a_file_that_exists_is_still_served(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/static/customer/css/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
