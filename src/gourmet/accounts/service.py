"""Account use cases: sign up, sign in, sessions and sign out.

A session is a random token in the customer's cookie; the database keeps only its SHA-256, so
the table cannot be replayed as cookies if it leaks. Passwords are argon2 hashes, computed off the
event loop and never while a pooled connection is held: a hash takes tens of milliseconds, and a
connection held that long is one the checkout does not get.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from gourmet.accounts import passwords
from gourmet.accounts import repository as repo
from gourmet.accounts.errors import EmailTaken, WrongCredentials
from gourmet.accounts.schemas import AccountView, Role
from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn

SESSION_TOKEN_BYTES = 32
MAX_SESSION_TOKEN = 128  # longer cookies are not ours: refused without a database read
WRONG_CREDENTIALS = "Wrong email or password."


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_view(row: dict[str, Any]) -> AccountView:
    return msgspec.convert(row, AccountView, from_attributes=True)


async def insert_account(
    conn: Conn, *, email: str, password_hash: str, role: Role, name: str
) -> AccountView:
    """Store an account (inside the caller's transaction); EmailTaken when the email is."""
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction survives a refusal
            row = await repo.insert_account(
                conn, email=email, password_hash=password_hash, role=role, name=name.strip()
            )
    except psycopg.errors.UniqueViolation as exc:
        raise EmailTaken(
            "An account with this email already exists; sign in instead.", field="email"
        ) from exc
    return account_view(row)


class AccountService:
    def __init__(
        self,
        pool: GuardedPool,
        *,
        session_hours: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._pool = pool
        self._session_length = timedelta(hours=session_hours)
        self._clock = clock or (lambda: datetime.now(UTC))
        # At most a CPU's worth of hashes at once: a burst of sign-ins waits its turn instead of
        # taking 64 MiB each from the server's memory.
        self._hash_slots = asyncio.Semaphore(os.cpu_count() or 2)
        # Verified against when the email is unknown, so "no such account" takes as long as a
        # wrong password: no account discovery by timing.
        self._dummy_hash = passwords.hash_password(secrets.token_urlsafe(16))

    async def _hash(self, password: str) -> str:
        async with self._hash_slots:
            return await asyncio.to_thread(passwords.hash_password, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        async with self._hash_slots:
            return await asyncio.to_thread(passwords.verify_password, password_hash, password)

    # -- creating accounts --------------------------------------------------------------------

    async def sign_up(self, email: str, password: str, name: str) -> tuple[AccountView, str]:
        """A new customer account, signed in: the account and its session token."""
        return await self._create(email, password, name, "customer", with_session=True)

    async def create_account(self, email: str, password: str, name: str, role: Role) -> AccountView:
        """An account made by an admin (staff, managers, other admins); no session."""
        account, _ = await self._create(email, password, name, role, with_session=False)
        return account

    async def _create(
        self, email: str, password: str, name: str, role: Role, *, with_session: bool
    ) -> tuple[AccountView, str]:
        email = passwords.normalize_email(email)
        passwords.check_strength(password)
        password_hash = await self._hash(password)
        token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        async with self._pool.connection() as conn, conn.transaction():
            account = await insert_account(
                conn, email=email, password_hash=password_hash, role=role, name=name
            )
            if with_session:
                await repo.insert_session(conn, session_hash(token), account.id, self._expiry())
        return account, token

    # -- sessions -----------------------------------------------------------------------------

    async def sign_in(self, email: str, password: str) -> tuple[AccountView, str]:
        """The account and a new session token; WrongCredentials, the same for either mistake."""
        # A malformed email is just an unknown one: the same answer, after the same work.
        async with self._pool.connection() as conn:
            row = await repo.credentials(conn, email.strip().lower())
        stored = row["password_hash"] if row is not None else self._dummy_hash
        if not await self._verify(stored, password) or row is None:
            raise WrongCredentials(WRONG_CREDENTIALS)
        rehashed = await self._hash(password) if passwords.needs_rehash(stored) else None
        token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        async with self._pool.connection() as conn, conn.transaction():
            if rehashed is not None:
                await repo.set_password_hash(conn, row["id"], rehashed)
            await repo.insert_session(conn, session_hash(token), row["id"], self._expiry())
        return account_view(row), token

    async def session_account(self, token: str) -> AccountView | None:
        """The account a session token belongs to, while the session lasts."""
        if not token or len(token) > MAX_SESSION_TOKEN:
            return None
        async with self._pool.connection() as conn:
            row = await repo.session_account(conn, session_hash(token))
        return account_view(row) if row is not None else None

    async def sign_out(self, token: str) -> None:
        async with self._pool.connection() as conn:
            await repo.delete_session(conn, session_hash(token))

    def _expiry(self) -> datetime:
        return self._clock() + self._session_length
