"""All SQL of accounts: accounts and their sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gourmet.db.types import Conn


async def insert_account(
    conn: Conn, *, email: str, password_hash: str, role: str, name: str
) -> dict[str, Any]:
    """Store a new account; raises UniqueViolation when the email is taken."""
    row = await (
        await conn.execute(
            "INSERT INTO account (email, password_hash, role, name) VALUES (%s, %s, %s, %s)"
            " RETURNING id, email, name, role, created_at",
            (email, password_hash, role, name),
        )
    ).fetchone()
    assert row is not None
    return row


async def credentials(conn: Conn, email: str) -> dict[str, Any] | None:
    """The account with this email and its password hash, for signing in."""
    return await (
        await conn.execute(
            "SELECT id, email, name, role, created_at, password_hash FROM account WHERE email = %s",
            (email,),
        )
    ).fetchone()


async def set_password_hash(conn: Conn, account_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE account SET password_hash = %s WHERE id = %s", (password_hash, account_id)
    )


async def insert_session(
    conn: Conn, token_hash: str, account_id: int, expires_at: datetime
) -> None:
    # Sweep this account's expired sessions while we are here: no cleanup job needed.
    await conn.execute(
        "DELETE FROM account_session WHERE account_id = %s AND expires_at <= now()", (account_id,)
    )
    await conn.execute(
        "INSERT INTO account_session (token_hash, account_id, expires_at) VALUES (%s, %s, %s)",
        (token_hash, account_id, expires_at),
    )


async def session_account(conn: Conn, token_hash: str) -> dict[str, Any] | None:
    """The account of a session that has not expired."""
    return await (
        await conn.execute(
            "SELECT a.id, a.email, a.name, a.role, a.created_at FROM account_session s"
            " JOIN account a ON a.id = s.account_id"
            " WHERE s.token_hash = %s AND s.expires_at > now()",
            (token_hash,),
        )
    ).fetchone()


async def delete_session(conn: Conn, token_hash: str) -> None:
    await conn.execute("DELETE FROM account_session WHERE token_hash = %s", (token_hash,))


async def recent_resets(conn: Conn, account_id: int, since: datetime) -> int:
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM password_reset WHERE account_id = %s AND created_at > %s",
            (account_id, since),
        )
    ).fetchone()
    return int(row["n"]) if row else 0


async def insert_reset(conn: Conn, token_hash: str, account_id: int, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO password_reset (token_hash, account_id, expires_at) VALUES (%s, %s, %s)",
        (token_hash, account_id, expires_at),
    )


async def use_reset(conn: Conn, token_hash: str) -> dict[str, Any] | None:
    """Spend a reset token that is unused and unexpired: its account, or None. One statement:
    two uses of the same link at once spend it once."""
    return await (
        await conn.execute(
            "UPDATE password_reset r SET used_at = now() FROM account a"
            " WHERE r.token_hash = %s AND r.used_at IS NULL AND r.expires_at > now()"
            " AND a.id = r.account_id"
            " RETURNING a.id, a.email, a.name, a.role, a.created_at",
            (token_hash,),
        )
    ).fetchone()


async def end_sessions(conn: Conn, account_id: int) -> None:
    """Every session of the account ends (a new password signs out the old ones)."""
    await conn.execute("DELETE FROM account_session WHERE account_id = %s", (account_id,))


async def delete_account(conn: Conn, account_id: int) -> None:
    """The account goes; its sessions and reset links with it (ON DELETE CASCADE)."""
    await conn.execute("DELETE FROM account WHERE id = %s", (account_id,))


async def staff_accounts(conn: Conn) -> list[dict[str, Any]]:
    return await (
        await conn.execute(
            "SELECT id, email, name, role, created_at FROM account WHERE role <> 'customer'"
            " ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'manager' THEN 1 ELSE 2 END, email"
        )
    ).fetchall()


async def lock_staff_account(conn: Conn, account_id: int) -> dict[str, Any] | None:
    """The staff account, and every admin account, locked until the transaction ends: two
    admins demoting each other at once cannot leave none."""
    await conn.execute("SELECT id FROM account WHERE role = 'admin' FOR UPDATE")
    return await (
        await conn.execute(
            "SELECT id, email, name, role, created_at FROM account"
            " WHERE id = %s AND role <> 'customer' FOR UPDATE",
            (account_id,),
        )
    ).fetchone()


async def admins(conn: Conn) -> int:
    row = await (
        await conn.execute("SELECT count(*) AS n FROM account WHERE role = 'admin'")
    ).fetchone()
    return int(row["n"]) if row else 0


async def set_role(conn: Conn, account_id: int, role: str) -> dict[str, Any]:
    row = await (
        await conn.execute(
            "UPDATE account SET role = %s WHERE id = %s"
            " RETURNING id, email, name, role, created_at",
            (role, account_id),
        )
    ).fetchone()
    assert row is not None, "the account was locked by the caller"
    return row
