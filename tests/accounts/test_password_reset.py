"""A forgotten password, through a real SMTP conversation (the mail sink): the same answer
whether the address has an account or not; a link that works once, for 30 minutes; a new password
that signs out every other session; at most three links an hour for one account; the client
throttled; and the token struck from the outbox once sent."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gourmet.accounts.guards import SESSION_COOKIE
from gourmet.accounts.service import RESET_ASKED
from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.db.types import Conn
from gourmet.notify import sink
from tests.accounts.helpers import CSRF, PASSWORD, sign_in, sign_up
from tests.conftest import FixtureMenu
from tests.ordering.helpers import text_of
from tests.payments.test_refunds import mail_sink
from tests.polling import wait_for
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a much better password"
LINK = re.compile(r"https://order\.example/account/reset#token=([\w-]+)")


@contextlib.asynccontextmanager
async def mailing(settings: Settings, folder: Path, **security: Any) -> AsyncIterator[Client]:
    with mail_sink(folder) as mail:
        changed = settings.changed(
            **mail, server={"public_url": "https://order.example"}, security=security
        )
        async with serve(asgi_stack(create_app(changed))) as client:
            yield client


async def ask(client: Client, email: str) -> Any:
    return await client.post("/api/password-resets", json={"email": email}, headers=CSRF)


async def use(client: Client, token: str, password: str = NEW_PASSWORD) -> Any:
    return await client.post(
        "/api/password-resets/use", json={"token": token, "password": password}, headers=CSRF
    )


async def links(folder: Path, count: int) -> list[str]:
    async def read() -> list[str]:
        return [m for mail in sink.read_folder(folder) for m in LINK.findall(text_of(mail))]

    return await wait_for(read, lambda found: len(found) >= count, timeout_s=10)


async def test_a_link_by_email_sets_a_new_password_once_and_signs_out_the_rest(
    settings: Settings, menu: FixtureMenu, tmp_path: Path, conn: Conn
) -> None:
    folder = tmp_path / "mail"
    async with mailing(settings, folder) as client:
        old_session = await sign_up(client, "ada@example.com")
        asked = await ask(client, "Ada@Example.com ")
        assert (asked.status_code, asked.json()) == (202, {"detail": RESET_ASKED})
        (token,) = await links(folder, 1)
        done = await use(client, token)
        assert done.status_code == 200, done.text
        assert done.json()["email"] == "ada@example.com"
        assert done.cookies.get(SESSION_COOKIE)  # this browser is signed in
        client.cookies.clear()
        assert (await client.get("/api/me", headers=old_session)).status_code == 401
        await sign_in(client, "ada@example.com", NEW_PASSWORD)
        wrong = await client.post(
            "/api/session", json={"email": "ada@example.com", "password": PASSWORD}, headers=CSRF
        )
        assert wrong.status_code == 401
        again = await use(client, token, "yet another password")
        assert again.status_code == 400
        assert again.json()["type"].endswith("/invalid-reset-link")
    jobs = await (
        await conn.execute("SELECT payload FROM outbox WHERE event_key LIKE 'email:account:%%'")
    ).fetchall()
    assert [job["payload"] for job in jobs] == [
        {"event": "password-reset", "to": "ada@example.com"}  # the token struck out
    ]


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    settings: Settings, menu: FixtureMenu, tmp_path: Path, conn: Conn
) -> None:
    folder = tmp_path / "mail"
    async with mailing(settings, folder) as client:
        await sign_up(client, "ada@example.com")
        unknown = await ask(client, "nobody@example.com")
        known = await ask(client, "ada@example.com")
        assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
        await links(folder, 1)
        rows = await (await conn.execute("SELECT count(*) AS n FROM password_reset")).fetchone()
        assert rows == {"n": 1}
        assert len(sink.read_folder(folder)) == 1


async def test_three_links_an_hour_and_an_expired_or_bad_link_does_nothing(
    settings: Settings, menu: FixtureMenu, tmp_path: Path, conn: Conn
) -> None:
    folder = tmp_path / "mail"
    async with mailing(settings, folder) as client:
        await sign_up(client, "ada@example.com")
        for _ in range(5):
            assert (await ask(client, "ada@example.com")).status_code == 202
        tokens = await links(folder, 3)
        rows = await (await conn.execute("SELECT count(*) AS n FROM password_reset")).fetchone()
        assert rows == {"n": 3}
        weak = await use(client, tokens[0], "short")
        assert weak.status_code == 422  # and the link still works
        await conn.execute(
            "UPDATE password_reset SET expires_at = now() - %s", (timedelta(seconds=1),)
        )
        expired = await use(client, tokens[0])
        assert expired.status_code == 400
        assert (await use(client, "made-up")).status_code == 400
        await sign_in(client, "ada@example.com", PASSWORD)  # the password never changed


async def test_two_uses_of_one_link_at_once_spend_it_once(
    settings: Settings, menu: FixtureMenu, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    async with mailing(settings, folder) as client:
        await sign_up(client, "ada@example.com")
        await ask(client, "ada@example.com")
        (token,) = await links(folder, 1)
        first, second = await asyncio.gather(
            use(client, token), use(client, token, "other pw 12345")
        )
        assert sorted((first.status_code, second.status_code)) == [200, 400]


async def test_a_client_asking_too_often_is_throttled(
    settings: Settings, menu: FixtureMenu, tmp_path: Path
) -> None:
    async with mailing(settings, tmp_path / "mail", password_resets_per_hour=2) as client:
        answers = [(await ask(client, f"u{n}@example.com")).status_code for n in range(3)]
        assert answers == [202, 202, 429]
