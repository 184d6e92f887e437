"""Signing in from the tests: the session cookie sent explicitly, one account per request."""

from __future__ import annotations

from gourmet.accounts.guards import SESSION_COOKIE
from tests.serving import Client

CSRF = {"X-Requested-With": "gourmet"}
PASSWORD = "correct horse battery"


def session_headers(client: Client, response_cookie: str | None) -> dict[str, str]:
    """Headers carrying a session cookie; the client's own jar is emptied so that each request
    says exactly which account it is."""
    assert response_cookie, "no session cookie was set"
    client.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={response_cookie}"}


async def sign_up(client: Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(
        "/api/accounts",
        json={"email": email, "password": password, "name": "Ada"},
        headers=CSRF,
    )
    assert response.status_code == 201, response.text
    return session_headers(client, response.cookies.get(SESSION_COOKIE))


async def sign_in(client: Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(
        "/api/session", json={"email": email, "password": password}, headers=CSRF
    )
    assert response.status_code == 200, response.text
    return session_headers(client, response.cookies.get(SESSION_COOKIE))
