"""The sign-in throttle under concurrency: many wrong attempts sent at once from one address get
no more password checks than the limit allows, however they interleave.

A limit read before the password check and counted after it let every attempt in flight pass
the read before any was counted (a probe got 24 checks against a limit of 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from gourmet.accounts import passwords
from gourmet.app import create_app
from gourmet.config import Settings
from tests.accounts.helpers import CSRF, sign_in, sign_up
from tests.conftest import FixtureMenu
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio

CONCURRENT = 60
LIMIT = 5  # Settings.sign_in_failures


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/too-many-attempts"
    assert int(response.headers["Retry-After"]) > 0


async def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(
    client: Client, menu: FixtureMenu, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "ada@example.com")
    client.cookies.clear()
    checks: list[str] = []
    verify: Callable[[str, str], bool] = passwords.verify_password

    def counted(password_hash: str, password: str) -> bool:
        checks.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counted)
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/session",
                json={"email": "ada@example.com", "password": f"wrong guess {n}"},
                headers=CSRF,
            )
            for n in range(CONCURRENT)
        )
    )
    answered = [r for r in responses if r.status_code != 429]
    assert len(checks) <= LIMIT
    assert len(answered) <= LIMIT
    assert all(r.status_code == 401 for r in answered)
    for response in responses:
        if response.status_code == 429:
            assert_throttled(response)


async def test_concurrent_wrong_staff_tokens_get_at_most_the_limit_of_checks(
    client: Client, menu: FixtureMenu
) -> None:
    responses = await asyncio.gather(
        *(client.post("/ops/login", data={"token": f"guess {n}"}) for n in range(CONCURRENT))
    )
    answered = [r for r in responses if r.status_code != 429]
    assert len(answered) <= LIMIT
    assert all(r.status_code == 303 for r in answered)
    for response in responses:
        if response.status_code == 429:
            assert_throttled(response)


async def test_a_success_is_not_counted_against_the_address(
    settings: Settings, menu: FixtureMenu
) -> None:
    """Each attempt is counted before the password is checked; a right one is given back, or
    an office signing in to its own accounts would pause itself."""
    limited = settings.changed(security={"sign_in_failures_per_address": 2})
    async with serve(create_app(limited)) as client:
        await sign_up(client, "ada@example.com")
        for _ in range(4):
            await sign_in(client, "ada@example.com")
        wrong = [
            (
                await client.post(
                    "/api/session",
                    json={"email": "ada@example.com", "password": "wrong guess"},
                    headers=CSRF,
                )
            ).status_code
            for _ in range(3)
        ]
    assert wrong == [401, 401, 429]
