"""Snoozed items come back by themselves: a chore of the outbox worker switches on every item
whose ``back_at`` has passed and tells every process's menu cache (``menu_changed``)."""

from __future__ import annotations

from gourmet.db.pool import GuardedPool
from gourmet.menu import edit_repository as edits
from gourmet.menu import repository as repo


class Snoozes:
    def __init__(self, pool: GuardedPool) -> None:
        self._pool = pool

    async def __call__(self) -> int:
        """Bring back the items whose time has come; how many."""
        async with self._pool.connection() as conn, conn.transaction():
            back = await edits.bring_back_snoozed(conn)
            if back:
                await repo.notify_menu_changed(conn)
        return back
