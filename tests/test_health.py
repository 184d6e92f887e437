"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_openapi_describes_the_api(client: Client) -> None:
    document = (await client.get("/api/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    for path in (
        "/api/menu",
        "/api/orders",
        "/api/orders/{token}",
        "/api/slots",
        "/api/staff/orders",
        "/api/staff/orders/{order_id}/status",
    ):
        assert path in document["paths"], path
