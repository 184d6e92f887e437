"""Account use cases: sign up, sign in, sessions, sign out, and a forgotten password reset.

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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from gourmet.accounts import passwords
from gourmet.accounts import repository as repo
from gourmet.accounts.errors import (
    EmailTaken,
    Forbidden,
    InvalidResetLink,
    LastAdmin,
    NoSuchAccount,
    WrongCredentials,
)
from gourmet.accounts.schemas import AccountView, Role
from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn

SESSION_TOKEN_BYTES = 32
RESET_VALID = timedelta(minutes=30)
RESETS_PER_HOUR = 3  # links sent to one account in an hour; more asks send nothing more
# Told to whoever asks, whether the address has an account or not: no account discovery.
RESET_ASKED = (
    "If an account uses this address, we have sent it a link to choose a new password."
    " The link works once, for 30 minutes."
)
BAD_RESET_LINK = "This link has expired or was already used; ask for a new one."
# Writes the reset link's email, in the caller's transaction: (conn, account id, email, token).
SendReset = Callable[[Conn, int, str, str], Awaitable[None]]
# Strips an account's orders of the personal fields, in the caller's transaction.
ForgetOrders = Callable[[Conn, int], Awaitable[None]]
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
        send_reset: SendReset | None = None,
        forget_orders: ForgetOrders | None = None,
    ) -> None:
        self._pool = pool
        self._send_reset = send_reset
        self._forget_orders = forget_orders
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

    # -- a forgotten password ----------------------------------------------------------------

    async def ask_reset(self, email: str) -> None:
        """Send the account with this email a reset link, if there is such an account and it
        has not been sent three this hour. Nothing tells the caller which happened."""
        if self._send_reset is None:
            return
        token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        now = self._clock()
        async with self._pool.connection() as conn, conn.transaction():
            row = await repo.credentials(conn, email.strip().lower())
            if row is None:
                return
            if (
                await repo.recent_resets(conn, row["id"], now - timedelta(hours=1))
                >= RESETS_PER_HOUR
            ):
                return
            await repo.insert_reset(conn, session_hash(token), row["id"], now + RESET_VALID)
            await self._send_reset(conn, row["id"], row["email"], token)

    async def reset_password(self, token: str, password: str) -> tuple[AccountView, str]:
        """Spend the link's token on a new password: every other session ends, and this
        browser is signed in. InvalidResetLink when the link is unknown, used or expired."""
        passwords.check_strength(password)
        if not token or len(token) > MAX_SESSION_TOKEN:
            raise InvalidResetLink(BAD_RESET_LINK)
        password_hash = await self._hash(password)
        session = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        async with self._pool.connection() as conn, conn.transaction():
            row = await repo.use_reset(conn, session_hash(token))
            if row is None:
                raise InvalidResetLink(BAD_RESET_LINK)
            await repo.set_password_hash(conn, row["id"], password_hash)
            await repo.end_sessions(conn, row["id"])
            await repo.insert_session(conn, session_hash(session), row["id"], self._expiry())
        return account_view(row), session

    # -- staff accounts, as an admin manages them --------------------------------------------

    async def staff_accounts(self) -> list[AccountView]:
        async with self._pool.connection() as conn:
            return [account_view(row) for row in await repo.staff_accounts(conn)]

    async def change_role(self, account_id: int, role: Role) -> AccountView:
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._staff_account(conn, account_id)
            if row["role"] == "admin" and role != "admin":
                await self._keep_an_admin(conn, row)
            return account_view(await repo.set_role(conn, account_id, role))

    async def remove_account(self, account_id: int) -> None:
        """A staff account goes (its sessions end); what it did stays in orders' history."""
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._staff_account(conn, account_id)
            if row["role"] == "admin":
                await self._keep_an_admin(conn, row)
            await repo.delete_account(conn, account_id)

    async def _staff_account(self, conn: Conn, account_id: int) -> dict[str, Any]:
        row = await repo.lock_staff_account(conn, account_id)
        if row is None:
            raise NoSuchAccount(f"There is no staff account {account_id}.")
        return row

    async def _keep_an_admin(self, conn: Conn, row: dict[str, Any]) -> None:
        if await repo.admins(conn) <= 1:
            raise LastAdmin(
                f"{row['email']} is the last admin: make another admin first, so that someone"
                " can still manage accounts."
            )

    # -- leaving ----------------------------------------------------------------------------

    async def delete_account(self, account: AccountView, password: str) -> None:
        """A customer deletes their account, with their password: it goes, with its sessions
        and reset links; its orders stay in the books, their personal fields removed."""
        if account.role != "customer":
            raise Forbidden("Staff accounts are removed by an admin.")
        async with self._pool.connection() as conn:
            row = await repo.credentials(conn, account.email)
        if row is None or not await self._verify(row["password_hash"], password):
            raise WrongCredentials("That is not your password; your account is unchanged.")
        async with self._pool.connection() as conn, conn.transaction():
            if self._forget_orders is not None:
                await self._forget_orders(conn, account.id)
            await repo.delete_account(conn, account.id)

    def _expiry(self) -> datetime:
        return self._clock() + self._session_length
