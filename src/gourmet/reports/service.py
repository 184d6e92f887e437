"""Sales reports, read from the daily summary: past days as the background job stored them,
today (and any past day the job has not reached yet) computed from its orders.

:class:`DailySales` is the job, a chore of the outbox worker: at most once a minute, one
process at a time (an advisory lock), it stores every past day that has no figures yet (the
newest first, a month per round) and computes again each day whose orders changed since (a
refund, a cancellation: the history's new entries name the orders, and so their days).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import msgspec
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
# A report asked for again within this many seconds is the one already made (it says as of
# when): managers reading a year back to back in a rush then cost the database and checkout's
# cores one report per half minute, not one per view. Past days change only when the job
# refreshes them (once a minute); today, as orders come.
FRESH_S = 30.0
HELD_REPORTS = 32  # the periods whose last report is kept
DAYS_PER_ROUND = 31
LOCK_KEY = 0x5A1E5  # pg advisory lock: one process refreshes the summary at a time
# History entries are stamped when their statement ran but seen when their transaction commits:
# days changed this long before the last refresh are looked at again.
CHANGE_SLACK = timedelta(minutes=5)
BEST_AND_WORST = 10

# Days changed since the last refresh are looked for only once there is one: the first refresh
# of a database with a year of history would otherwise read all of it (past the statement
# timeout, on a small server), and every day is missing then anyway.
DIRTY_DAYS_SQL = """
WITH changed AS (
    SELECT DISTINCT (o.created_at AT TIME ZONE %(tz)s)::date AS day
    FROM order_status_history h JOIN orders o ON o.id = h.order_id
    WHERE %(since)s::timestamptz IS NOT NULL AND h.at > %(since)s::timestamptz
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
        fresh_s: float = FRESH_S,
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._currency = currency
        self._clock = clock or (lambda: datetime.now(UTC))
        self._fresh_s = fresh_s
        # The last report of each period asked for, and its JSON, by (first, last).
        self._held: dict[tuple[date, date], tuple[SalesReport, bytes]] = {}
        self._making = asyncio.Lock()

    @property
    def tz(self) -> Any:
        return self._tz

    @property
    def time_zone(self) -> str:
        return str(self._tz)

    def today(self) -> date:
        return self._day_of(self._clock())

    def _day_of(self, moment: datetime) -> date:
        return moment.astimezone(self._tz).date()

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """The instants a local day starts and ends (23 or 25 hours on a clock change)."""
        start = datetime.combine(day, clock_time(0), self._tz)
        end = datetime.combine(day + timedelta(days=1), clock_time(0), self._tz)
        return start, end

    async def day_figures(self, conn: Conn, day: date) -> dict[str, Any]:
        rows = await (await conn.execute(figures.ORDERS_SQL, self.bounds(day))).fetchall()
        return figures.of_orders(rows, self._tz)

    async def report(self, first: date, last: date) -> SalesReport:
        """The figures of the days ``first`` to ``last`` (inclusive, local days), made at most
        ``fresh_s`` ago."""
        return (await self._held_report(first, last))[0]

    async def report_json(self, first: date, last: date) -> bytes:
        """:meth:`report` as JSON, encoded once per report made (a year is a large answer)."""
        return (await self._held_report(first, last))[1]

    async def _held_report(self, first: date, last: date) -> tuple[SalesReport, bytes]:
        held = self._fresh((first, last))
        if held is not None:
            return held
        # One report made at a time in this process: managers asking at once wait for it
        # rather than each reading the same days again.
        async with self._making:
            held = self._fresh((first, last))
            if held is not None:
                return held
            return await self._make(first, last)

    def _fresh(self, period: tuple[date, date]) -> tuple[SalesReport, bytes] | None:
        held = self._held.get(period)
        if held is not None and (self._clock() - held[0].as_of).total_seconds() < self._fresh_s:
            return held
        return None

    async def _make(self, first: date, last: date) -> tuple[SalesReport, bytes]:
        now = self._clock()
        report = await self._made(first, last, now)
        self._held.pop((first, last), None)
        self._held[(first, last)] = held = (report, msgspec.json.encode(report))
        while len(self._held) > HELD_REPORTS:
            del self._held[next(iter(self._held))]  # the oldest made
        return held

    async def _made(self, first: date, last: date, now: datetime) -> SalesReport:
        today = self._day_of(now)
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
            while day <= min(last, today):
                if day not in by_day:  # today, or a past day the job has not reached yet
                    by_day[day] = await self.day_figures(conn, day)
                day += timedelta(days=1)
        return self._shaped(first, last, by_day, now)

    def _shaped(
        self,
        first: date,
        last: date,
        by_day: dict[date, dict[str, Any]],
        as_of: datetime,
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
            as_of=as_of,
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
            last = await (
                await conn.execute("SELECT max(computed_at) AS at FROM daily_sales")
            ).fetchone()
            params = {
                "tz": self._reports.time_zone,
                "since": last["at"] - CHANGE_SLACK if last and last["at"] else None,
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
