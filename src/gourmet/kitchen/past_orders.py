"""Past orders, as staff find them when a customer calls: by number, name, phone or email, a
range of days and a status, newest first, a page at a time; and any order with its lines, full
history, payment and refunds.

Pages are keyset pages (``before``: the last number of the page before), so the hundredth page
costs what the first does. Name, phone and email are matched anywhere in them (case-insensitive);
a query that is a number also finds the order with that number, and ``#1234`` finds only it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, LiteralString

import msgspec
from psycopg import sql

from gourmet.db.pool import GuardedPool
from gourmet.ordering.errors import no_such_order
from gourmet.ordering.schemas import OrderStatus, OrderView
from gourmet.ordering.tracking import repository as tracking_repo
from gourmet.ordering.tracking.views import order_view

PAGE_SIZE = 50
MAX_QUERY = 100


class FoundOrder(msgspec.Struct, frozen=True):
    number: int
    token: str
    status: OrderStatus
    created_at: datetime
    customer_name: str
    phone: str
    email: str | None
    fulfilment: str
    total_cents: int
    refunded_cents: int


class OrderPage(msgspec.Struct, frozen=True):
    orders: list[FoundOrder]
    next_before: int | None  # ask again with before=this for the next page; None: no more


class PastOrders:
    def __init__(self, pool: GuardedPool, tz: Any) -> None:
        self._pool = pool
        self._tz = tz

    async def search(
        self,
        query: str = "",
        first: date | None = None,
        last: date | None = None,
        status: OrderStatus | None = None,
        before: int | None = None,
    ) -> OrderPage:
        where: list[LiteralString] = ["TRUE"]
        params: list[object] = []
        query = query.strip()
        if query.startswith("#") and query[1:].isdigit() and len(query) <= 19:
            where.append("id = %s")  # "#1234": that order, and only it
            params.append(int(query[1:]))
        elif query:
            pattern = (
                "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            matches: LiteralString = "customer_name ILIKE %s OR phone ILIKE %s OR email ILIKE %s"
            params += [pattern, pattern, pattern]
            if query.isdigit() and len(query) <= 18:
                matches += " OR id = %s"
                params.append(int(query))
            where.append(f"({matches})")
        if first is not None:
            where.append("created_at >= %s")
            params.append(datetime.combine(first, clock_time(0), self._tz))
        if last is not None:
            where.append("created_at < %s")
            params.append(datetime.combine(last + timedelta(days=1), clock_time(0), self._tz))
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if before is not None:
            where.append("id < %s")
            params.append(before)
        statement = sql.SQL(
            "SELECT id, token, status, created_at, customer_name, phone, email, fulfilment,"
            " total_cents, refunded_cents FROM orders WHERE {} ORDER BY id DESC LIMIT %s"
        ).format(sql.SQL(" AND ").join(sql.SQL(condition) for condition in where))
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(statement, (*params, PAGE_SIZE + 1))).fetchall()
        found = [FoundOrder(number=row.pop("id"), **row) for row in rows[:PAGE_SIZE]]
        more = len(rows) > PAGE_SIZE
        return OrderPage(found, found[-1].number if more else None)

    async def order(self, number: int) -> OrderView:
        """Any order, open or long done, with its lines, history, payment and refunds."""
        async with self._pool.connection() as conn:
            row = await tracking_repo.order_mail_row(conn, number)  # the view row, by number
        if row is None:
            raise no_such_order()
        return order_view(row)
