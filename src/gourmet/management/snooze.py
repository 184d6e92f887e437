"""Snoozed items come back by themselves: a chore of the outbox worker switches on every item
whose ``back_at`` has passed and tells every process's menu cache (``menu_changed``). The same
chore starts each of the restaurant's days with the items' daily stock, where they have one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo

from gourmet.db.pool import GuardedPool
from gourmet.menu import edit_repository as edits
from gourmet.menu import repository as repo


class Snoozes:
    def __init__(
        self, pool: GuardedPool, tz: tzinfo, today: Callable[[tzinfo], date] | None = None
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._today = today or (lambda zone: datetime.now(zone).date())
        self._day_seen: date | None = None  # the day this process last claimed or found claimed

    async def __call__(self) -> int:
        """Bring back the items whose time has come, and a new day's stock; how many items.
        The day is asked of the database once a day per process, not every round."""
        today = self._today(self._tz)
        async with self._pool.connection() as conn, conn.transaction():
            back = await edits.bring_back_snoozed(conn)
            if today != self._day_seen:
                back += await edits.reset_daily_stock(conn, today)
            if back:
                await repo.notify_menu_changed(conn)
        self._day_seen = today
        return back
