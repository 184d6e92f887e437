"""Sign-in and sign-up limits, counted in PostgreSQL: shared by every process, per client
address as a trusted proxy reports it, and unable to lock an owner out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from gourmet.accounts.limits import DEVICE_COOKIE
from gourmet.app import create_app
from gourmet.config import Settings
from gourmet.db.rate_counter import RateCounter
from gourmet.db.setup import guarded_pool
from gourmet.resilience.client_address import ClientAddress
from tests.accounts.helpers import CSRF, PASSWORD, sign_up
from tests.conftest import FixtureMenu
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio

OWNER = "ada@example.com"


@pytest.fixture
def proxied(settings: Settings) -> Settings:
    """Behind a load balancer on 127.0.0.1 (the test client's address): X-Forwarded-For says
    who the client is."""
    return settings.changed(server={"trusted_proxies": ["127.0.0.1"]})


@pytest.fixture
async def behind_proxy(proxied: Settings, menu: FixtureMenu) -> AsyncIterator[Client]:
    async with serve(create_app(proxied)) as client:
        yield client


async def sign_in_from(
    client: Client, address: str, password: str, email: str = OWNER, **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/session",
        json={"email": email, "password": password},
        headers={**CSRF, "X-Forwarded-For": address, **headers},
    )


async def test_a_guesser_elsewhere_cannot_lock_the_owner_out(behind_proxy: Client) -> None:
    await sign_up(behind_proxy, OWNER)
    for guess in range(5):
        wrong = await sign_in_from(behind_proxy, "203.0.113.9", f"guess {guess}")
        assert wrong.status_code == 401
    paused = await sign_in_from(behind_proxy, "203.0.113.9", PASSWORD)
    owner = await sign_in_from(behind_proxy, "198.51.100.7", PASSWORD)
    assert paused.status_code == 429
    assert int(paused.headers["Retry-After"]) > 0
    assert owner.status_code == 200


async def test_guessing_from_many_addresses_pauses_new_browsers_but_not_the_owners(
    proxied: Settings, menu: FixtureMenu
) -> None:
    settings = proxied.changed(security={"sign_in_failures_per_account": 8})
    async with serve(create_app(settings)) as client:
        signed_up = await client.post(
            "/api/accounts",
            json={"email": OWNER, "password": PASSWORD, "name": "Ada"},
            headers=CSRF,
        )
        device = signed_up.cookies[DEVICE_COOKIE]
        client.cookies.clear()
        for n in range(8):  # a botnet: one guess from each address
            wrong = await sign_in_from(client, f"203.0.113.{n}", "a guess")
            assert wrong.status_code == 401
        stranger = await sign_in_from(client, "198.51.100.7", PASSWORD)
        owner = await sign_in_from(
            client, "198.51.100.7", PASSWORD, Cookie=f"{DEVICE_COOKIE}={device}"
        )
        forged = await sign_in_from(client, "198.51.100.8", PASSWORD, Cookie=f"{DEVICE_COOKIE}=x")
    assert stranger.status_code == 429
    assert owner.status_code == 200
    assert forged.status_code == 429


async def test_guessing_many_accounts_from_one_address_is_paused_whatever_it_forwards(
    settings: Settings, menu: FixtureMenu
) -> None:
    """One client trying many accounts, claiming a new X-Forwarded-For address each time:
    straight from the client that header proves nothing, so every guess counts against the
    connection's own address."""
    async with serve(
        create_app(settings.changed(security={"sign_in_failures_per_address": 6}))
    ) as client:
        statuses = [
            (
                await sign_in_from(client, f"203.0.113.{n}", PASSWORD, f"user{n}@example.com")
            ).status_code
            for n in range(7)
        ]
    assert statuses == [401] * 6 + [429]


async def test_failures_counted_by_one_process_hold_in_another(
    settings: Settings, menu: FixtureMenu
) -> None:
    """Two apps, as two workers or replicas: the guesses of one count in the other."""
    async with serve(create_app(settings)) as first, serve(create_app(settings)) as second:
        await sign_up(first, OWNER)
        for n, worker in enumerate([first, second] * 3):
            response = await sign_in_from(worker, "", f"guess {n}")
            assert response.status_code == (401 if n < 5 else 429)


async def test_sign_ups_per_address_are_limited(proxied: Settings, menu: FixtureMenu) -> None:
    settings = proxied.changed(security={"sign_ups_per_hour": 3})
    app: Litestar = create_app(settings)
    async with serve(app) as client:

        async def sign_up_from(address: str, n: int) -> int:
            response = await client.post(
                "/api/accounts",
                json={"email": f"user{n}@example.com", "password": PASSWORD, "name": "U"},
                headers={**CSRF, "X-Forwarded-For": address},
            )
            client.cookies.clear()
            if response.status_code == 429:
                assert response.json()["type"] == "/problems/too-many-attempts"
                assert int(response.headers["Retry-After"]) > 0
            return response.status_code

        same = [await sign_up_from("203.0.113.1", n) for n in range(4)]
        other = await sign_up_from("203.0.113.2", 4)
    assert same == [201, 201, 201, 429]
    assert other == 201


async def test_counts_are_per_window_and_cleared_on_request(
    settings: Settings, menu: FixtureMenu
) -> None:
    pool = await guarded_pool(settings, str(settings.database.url))
    await pool.pool.open(wait=True)
    try:
        counter = RateCounter(pool)
        assert await counter.read(["a", "b"], 60) == {}
        await counter.add(["a", "b"], 60)
        counts = await counter.add(["a"], 60)
        assert counts["a"].hits == 2
        assert 0 < counts["a"].resets_in_s <= 60
        read = await counter.read(["a", "b"], 60)
        assert {bucket: count.hits for bucket, count in read.items()} == {"a": 2, "b": 1}
        assert await counter.read(["a"], 3600) == {}  # another window length, another count
        await counter.clear(["a"])
        assert list(await counter.read(["a", "b"], 60)) == ["b"]
    finally:
        await pool.pool.close()


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the client wrote the left
        ("127.0.0.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # past our own proxies
        ("127.0.0.1", "not an address", "127.0.0.1"),
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # not a trusted proxy: the header is ignored
        (None, "203.0.113.5", "unknown"),
    ],
)
def test_the_client_address_behind_trusted_proxies(
    peer: str | None, forwarded: str | None, client: str
) -> None:
    assert ClientAddress(["127.0.0.1", "10.0.0.0/8"]).of(peer, forwarded) == client
