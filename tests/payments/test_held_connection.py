"""The old platform's connection per request (the ``incident`` profile), against the real app,
PostgreSQL and the sandbox card provider: the connection is held while the request waits on
the card provider, as the postmortem's "inefficient connection handling" describes; the hardened
profile holds none then."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import pytest

from gourmet.app import asgi_stack, create_app
from gourmet.config import DatabaseSettings, PaymentsSettings, SecuritySettings, Settings
from gourmet.services import runtime_of
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.payments.helpers import Sandbox
from tests.payments.test_checkout_card import by_card
from tests.polling import wait_for
from tests.serving import serve

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("profile", ["incident", "hardened"])
async def test_a_connection_is_held_through_the_card_call_on_the_old_platform_only(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    sandbox: Sandbox,
    profile: Literal["incident", "hardened"],
) -> None:
    """While the provider takes the card, the old platform's request holds a connection all
    along; Gourmet's holds none (background work may take one for a moment: so the pool is
    watched through the call, and Gourmet's must be seen idle within it)."""
    settings = Settings(
        profile=profile,
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=2),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        payments=PaymentsSettings(url=sandbox.url, timeout_s=10),
    )
    app = create_app(settings)
    async with serve(asgi_stack(app)) as client:
        pool = runtime_of(app).services.pool
        await sandbox.control(latency_ms=2500)
        checkout = asyncio.create_task(client.post("/api/orders", json=by_card(menu)))

        async def during_the_charge() -> tuple[int, int]:
            in_flight = int((await sandbox.http.get("/charges")).json()["in_flight"])
            return in_flight, int(pool.stats()["in_use"])

        await wait_for(during_the_charge, lambda seen: seen[0] == 1)  # taking the card now
        seen: list[int] = []
        while (now := await during_the_charge())[0] == 1:
            seen.append(now[1])
            await asyncio.sleep(0.02)  # polling interval; the charge's own time bounds it
        placed = await checkout
    assert placed.status_code == 201, placed.text
    assert seen, "the charge ended before the pool could be watched"
    if profile == "incident":
        assert min(seen) >= 1  # held all along
    else:
        assert min(seen) == 0  # nothing held while the provider works
