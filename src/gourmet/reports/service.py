"""Sales reports, read from the daily summary: past days as the background job stored them,
today (and any past day the job has not reached yet) computed from its orders.

:class:`DailySales` is the job, a chore of the outbox worker: at most once a minute, one
process at a time (an advisory lock), it stores every past day that has no figures yet (the
newest first, a month per round) and computes again each day whose orders changed since (a
refund, a cancellation: the history's new entries name the orders, and so their days).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from psycopg.types.json import Jsonb

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.reports import figures
from gourmet.reports.schemas import (
    Breakdown,
    DayFigures,
    HourFigures,
    ItemFigures,
    SalesReport,
    Totals,
)

REFRESH_EVERY_S = 60.0
# Today's figures are read from today's orders; read again within this many seconds, they are
# the ones already read (the report says as of when). A manager reading a year back to back in
# a rush then costs the database and checkout's cores one read of today per half minute.
TODAY_FRESH_S = 30.0
DAYS_PER_ROUND = 31
LOCK_KEY = 0x5A1E5  # pg advisory lock: one process refreshes the summary at a time
# History entries are stamped when their statement ran but seen when their transaction commits:
# days changed this long before the last refresh are looked at again.
CHANGE_SLACK = timedelta(minutes=5)
BEST_AND_WORST = 10

DIRTY_DAYS_SQL = """
WITH last AS (SELECT coalesce(max(computed_at), '-infinity') AS at FROM daily_sales),
changed AS (
    SELECT DISTINCT (o.created_at AT TIME ZONE %(tz)s)::date AS day
    FROM last, order_status_history h JOIN orders o ON o.id = h.order_id
    WHERE h.at > last.at - %(slack)s
),
first AS (SELECT (min(created_at) AT TIME ZONE %(tz)s)::date AS day FROM orders),
missing AS (
    SELECT d::date AS day
    FROM first, generate_series(first.day, %(yesterday)s::date, interval '1 day') AS d
    WHERE NOT EXISTS (SELECT 1 FROM daily_sales s WHERE s.day = d::date)
    ORDER BY day DESC LIMIT %(limit)s
)
SELECT day FROM changed WHERE day < %(today)s UNION SELECT day FROM missing ORDER BY day DESC
"""


class SalesReports:
    def __init__(
        self,
        pool: GuardedPool,
        tz: Any,
        currency: str = "USD",
        clock: Callable[[], datetime] | None = None,
        today_fresh_s: float = TODAY_FRESH_S,
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._currency = currency
        self._clock = clock or (lambda: datetime.now(UTC))
        self._today_fresh_s = today_fresh_s
        # Today's figures as last read: (the day, when, its figures).
        self._today: tuple[date, datetime, dict[str, Any]] | None = None

    @property
    def tz(self) -> Any:
        return self._tz

    @property
    def time_zone(self) -> str:
        return str(self._tz)

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """The instants a local day starts and ends (23 or 25 hours on a clock change)."""
        start = datetime.combine(day, clock_time(0), self._tz)
        end = datetime.combine(day + timedelta(days=1), clock_time(0), self._tz)
        return start, end

    async def day_figures(self, conn: Conn, day: date) -> dict[str, Any]:
        rows = await (await conn.execute(figures.ORDERS_SQL, self.bounds(day))).fetchall()
        return figures.of_orders(rows, self._tz)

    async def report(self, first: date, last: date) -> SalesReport:
        """The figures of the days ``first`` to ``last`` (inclusive, local days)."""
        today = self.today()
        by_day: dict[date, dict[str, Any]] = {}
        async with self._pool.connection() as conn:
            stored = await (
                await conn.execute(
                    "SELECT day, figures FROM daily_sales WHERE day BETWEEN %s AND %s",
                    (first, min(last, today - timedelta(days=1))),
                )
            ).fetchall()
            by_day.update((row["day"], row["figures"]) for row in stored)
            day = first
            while day < min(last + timedelta(days=1), today):
                if day not in by_day:  # a past day the job has not reached yet
                    by_day[day] = await self.day_figures(conn, day)
                day += timedelta(days=1)
            as_of = None
            if first <= today <= last:
                as_of, by_day[today] = await self._today_figures(conn, today)
        return self._shaped(first, last, by_day, as_of)

    async def _today_figures(self, conn: Conn, today: date) -> tuple[datetime, dict[str, Any]]:
        """Today's figures, read from its orders at most ``today_fresh_s`` ago."""
        now = self._clock()
        held = self._today
        if held is None or held[0] != today or (now - held[1]).total_seconds() >= (
            self._today_fresh_s
        ):
            held = (today, now, await self.day_figures(conn, today))
            self._today = held
        return held[1], held[2]

    def _shaped(
        self,
        first: date,
        last: date,
        by_day: dict[date, dict[str, Any]],
        today_as_of: datetime | None = None,
    ) -> SalesReport:
        total = figures.empty()
        for day_figures in by_day.values():
            figures.add(total, day_figures)
        items = sorted(
            (ItemFigures(name, n, cents) for name, (n, cents) in total["items"].items()),
            key=lambda item: (-item.quantity, -item.sales_cents, item.name),
        )
        return SalesReport(
            from_day=first,
            to_day=last,
            time_zone=self.time_zone,
            currency=self._currency,
            totals=_totals(total),
            by_day=[
                DayFigures(day, _totals(by_day.get(day, figures.empty())))
                for day in _days(first, last)
            ],
            by_hour=[
                HourFigures(hour, *total["hours"].get(str(hour), (0, 0))) for hour in range(24)
            ],
            by_item=items,
            best_sellers=items[:BEST_AND_WORST],
            worst_sellers=items[::-1][:BEST_AND_WORST],
            by_fulfilment=_breakdown(total["fulfilment"]),
            by_payment=_breakdown(total["payment"]),
            today_as_of=today_as_of,
        )

    async def orders(self, first: date, last: date) -> list[dict[str, Any]]:
        """The sold orders of the days, oldest first, for the CSV export."""
        start, _ = self.bounds(first)
        _, end = self.bounds(last)
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(figures.ORDERS_SQL + " ORDER BY o.created_at", (start, end))
            ).fetchall()
        return list(rows)


class DailySales:
    """The background job that keeps ``daily_sales`` (see the module's docstring)."""

    def __init__(self, pool: GuardedPool, reports: SalesReports, every_s: float = REFRESH_EVERY_S):
        self._pool = pool
        self._reports = reports
        self._every_s = every_s
        self._last = -float("inf")

    async def __call__(self) -> int:
        if time.monotonic() - self._last < self._every_s:
            return 0
        self._last = time.monotonic()
        return await self.refresh()

    async def refresh(self) -> int:
        """Store the figures of every day that needs it; the number of days stored."""
        today = self._reports.today()
        async with self._pool.connection() as conn, conn.transaction():
            locked = await (
                await conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (LOCK_KEY,))
            ).fetchone()
            if not locked or not locked["ok"]:
                return 0
            params = {
                "tz": self._reports.time_zone,
                "slack": CHANGE_SLACK,
                "today": today,
                "yesterday": today - timedelta(days=1),
                "limit": DAYS_PER_ROUND,
            }
            days = [
                row["day"] for row in await (await conn.execute(DIRTY_DAYS_SQL, params)).fetchall()
            ]
            for day in days:
                day_figures = await self._reports.day_figures(conn, day)
                await conn.execute(
                    "INSERT INTO daily_sales (day, figures) VALUES (%s, %s) ON CONFLICT (day)"
                    " DO UPDATE SET figures = excluded.figures, computed_at = now()",
                    (day, Jsonb(day_figures)),
                )
        return len(days)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _totals(day_figures: dict[str, Any]) -> Totals:
    return Totals(
        orders=day_figures["orders"],
        gross_sales_cents=day_figures["gross"],
        delivery_fees_cents=day_figures["delivery"],
        tax_cents=day_figures["tax"],
        tips_cents=day_figures["tips"],
        total_cents=day_figures["total"],
        refunds_cents=day_figures["refunds"],
        net_cents=day_figures["total"] - day_figures["refunds"],
    )


def _breakdown(counts: dict[str, list[int]]) -> list[Breakdown]:
    return sorted(
        (Breakdown(key, n, cents) for key, (n, cents) in counts.items()),
        key=lambda entry: (-entry.total_cents, entry.key),
    )
