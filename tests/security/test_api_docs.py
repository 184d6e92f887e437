"""No page of Gourmet runs a script from a CDN: the Swagger UI loaded its scripts from
cdn.jsdelivr.net with no Content-Security-Policy or Subresource Integrity, so whoever served
that file could run code on an origin where staff sign in. The UIs are gone; the OpenAPI
document stays, for tools and for any viewer run locally."""

from __future__ import annotations

import pytest

from tests.conftest import FixtureMenu
from tests.serving import Client

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "path",
    [
        "/api/schema",
        "/api/schema/swagger",
        "/api/schema/redoc",
        "/api/schema/elements",
        "/api/schema/rapidoc",
        "/api/schema/scalar",
    ],
)
async def test_no_documentation_page_loads_scripts_from_elsewhere(
    client: Client, menu: FixtureMenu, path: str
) -> None:
    response = await client.get(path)
    assert "cdn." not in response.text
    assert "<script" not in response.text
    assert response.status_code in (200, 404)


async def test_the_openapi_document_is_still_served(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/api/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/orders" in document["paths"]
