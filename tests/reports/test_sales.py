"""Sales reports (``GET /api/manage/reports``): the figures equal the orders' own sums both ways
(refunds included), past days are read from the daily summary the background job keeps (never
recomputed per view) and redone when their orders change, and a range the report cannot cover
gets a clear 422."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.reports.service import DailySales, SalesReports
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

API = "/api/manage/reports"
ADDRESS = {"line1": "1 High St", "postcode": "AB1 2CD", "city": "Town"}


async def place(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/api/orders", json=body)
    assert answer.status_code == 201, answer.text
    placed: dict[str, Any] = answer.json()
    return placed


async def a_days_trade(client: Client, conn: Conn, menu: FixtureMenu) -> dict[str, int]:
    """Five orders: pickup and delivery, options, a tip; one moved to yesterday, one cancelled
    (not a sale), one partly refunded. Their numbers by role."""
    pizza = {"item_id": menu.pizza, "quantity": 2, "option_ids": [menu.size_large]}
    cheesy = {"item_id": menu.pizza, "option_ids": [menu.size_small, menu.extra_cheese]}
    orders = {
        "pickup": await place(client, checkout_body([pizza])),
        "delivery": await place(
            client,
            checkout_body([cheesy, {"item_id": menu.cake}], fulfilment="delivery", address=ADDRESS),
        ),
        "tipped": await place(
            client, {**checkout_body([{"item_id": menu.cake}]), "tip_cents": 250}
        ),
        "yesterday": await place(client, checkout_body([pizza])),
        "cancelled": await place(client, checkout_body([{"item_id": menu.cake, "quantity": 3}])),
    }
    numbers = {role: order["number"] for role, order in orders.items()}
    await conn.execute(
        "UPDATE orders SET created_at = created_at - interval '1 day' WHERE id = %s",
        (numbers["yesterday"],),
    )
    await conn.execute(
        "UPDATE orders SET status = 'cancelled' WHERE id = %s", (numbers["cancelled"],)
    )
    await refund(conn, numbers["pickup"], 500)
    return numbers


async def refund(conn: Conn, order_id: int, cents: int) -> None:
    """A refund as the books see it: the amount on the order and an entry in its history."""
    await conn.execute(
        "UPDATE orders SET refunded_cents = refunded_cents + %s WHERE id = %s", (cents, order_id)
    )
    await conn.execute(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, actor)"
        " SELECT id, status, status, 'refund', 'test' FROM orders WHERE id = %s",
        (order_id,),
    )


async def sums_from_orders(conn: Conn, tz: str, first: date, last: date) -> dict[str, int]:
    """The same figures, summed by PostgreSQL straight from the orders."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS orders, sum(subtotal_cents) AS gross,"
            " sum(delivery_fee_cents) AS delivery, sum(tax_cents) AS tax, sum(tip_cents) AS tips,"
            " sum(total_cents) AS total, sum(refunded_cents) AS refunds,"
            " (SELECT sum(l.quantity) FROM orders o2 JOIN order_line l ON l.order_id = o2.id"
            "  WHERE (o2.created_at AT TIME ZONE %(tz)s)::date BETWEEN %(first)s AND %(last)s"
            "  AND o2.status NOT IN ('awaiting_payment', 'rejected', 'cancelled')) AS quantity"
            " FROM orders"
            " WHERE (created_at AT TIME ZONE %(tz)s)::date BETWEEN %(first)s AND %(last)s"
            " AND status NOT IN ('awaiting_payment', 'rejected', 'cancelled')",
            {"tz": tz, "first": first, "last": last},
        )
    ).fetchone()
    assert row is not None
    return {key: int(value or 0) for key, value in row.items()}


def services(app: Litestar) -> tuple[SalesReports, DailySales]:
    reports = runtime_of(app).services.reports
    return reports, DailySales(runtime_of(app).services.pool, reports)


async def test_the_figures_are_the_orders_own_sums_both_ways(
    app: Litestar, client: Client, conn: Conn, menu: FixtureMenu
) -> None:
    await a_days_trade(client, conn, menu)  # the cancelled order is in no figure below
    reports, job = services(app)
    today = reports.today()
    yesterday = today - timedelta(days=1)
    assert await job.refresh() >= 1  # yesterday stored; today is always read live

    answer = await client.get(
        API, params={"from": str(yesterday), "to": str(today)}, headers=STAFF_HEADERS
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    expected = await sums_from_orders(conn, reports.time_zone, yesterday, today)
    totals = report["totals"]
    # One way: the report's totals are PostgreSQL's sums of the sold orders.
    assert totals == {
        "orders": expected["orders"],
        "gross_sales_cents": expected["gross"],
        "delivery_fees_cents": expected["delivery"],
        "tax_cents": expected["tax"],
        "tips_cents": expected["tips"],
        "total_cents": expected["total"],
        "refunds_cents": 500,
        "net_cents": expected["total"] - 500,
    }
    assert (expected["orders"], expected["refunds"]) == (4, 500)
    # The other: every breakdown adds up to those totals again.
    assert sum(day["totals"]["total_cents"] for day in report["by_day"]) == totals["total_cents"]
    assert [day["totals"]["orders"] for day in report["by_day"]] == [1, 3]
    assert sum(hour["orders"] for hour in report["by_hour"]) == totals["orders"]
    assert sum(f["total_cents"] for f in report["by_fulfilment"]) == totals["total_cents"]
    assert sum(p["total_cents"] for p in report["by_payment"]) == totals["total_cents"]
    assert sum(item["quantity"] for item in report["by_item"]) == expected["quantity"]
    assert sum(item["sales_cents"] for item in report["by_item"]) == totals["gross_sales_cents"]
    assert totals["total_cents"] == (
        totals["gross_sales_cents"]
        + totals["delivery_fees_cents"]
        + totals["tax_cents"]
        + totals["tips_cents"]
    )
    assert {f["key"] for f in report["by_fulfilment"]} == {"pickup", "delivery"}
    # Items as sold, with their options; the best seller first.
    assert report["best_sellers"][0]["quantity"] == 4  # two orders of two large pizzas
    assert any("Extra" in item["name"] or "(" in item["name"] for item in report["by_item"])


async def test_a_past_day_is_read_from_the_summary_and_redone_when_its_orders_change(
    app: Litestar, client: Client, conn: Conn, menu: FixtureMenu
) -> None:
    numbers = await a_days_trade(client, conn, menu)
    held, job = services(app)
    # Made anew at each ask (the app's are kept for 30 s: test_a_report_is_made_at_most...).
    reports = SalesReports(runtime_of(app).services.pool, held.tz, fresh_s=0)
    yesterday = reports.today() - timedelta(days=1)
    await job.refresh()
    before = (await reports.report(yesterday, yesterday)).totals
    assert before.orders == 1
    # Read, never recomputed per view: what the summary holds is what the manager sees.
    await conn.execute(
        "UPDATE daily_sales SET figures = jsonb_set(figures, '{orders}', '99') WHERE day = %s",
        (yesterday,),
    )
    assert (await reports.report(yesterday, yesterday)).totals.orders == 99
    # A refund on that day's order: the job computes the day again.
    await refund(conn, numbers["yesterday"], 300)
    assert await job.refresh() >= 1
    after = (await reports.report(yesterday, yesterday)).totals
    assert (after.orders, after.refunds_cents) == (1, 300)
    assert after.net_cents == before.net_cents - 300


async def test_orders_and_days_as_csv(client: Client, conn: Conn, menu: FixtureMenu) -> None:
    await a_days_trade(client, conn, menu)
    today = datetime.now().date()
    params = {"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=1))}
    answer = await client.get(API, params={**params, "format": "csv"}, headers=STAFF_HEADERS)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 4  # the sold orders, the cancelled one left out
    assert all(int(r["total_cents"]) > 0 for r in rows)
    days = await client.get(API, params={**params, "format": "summary-csv"}, headers=STAFF_HEADERS)
    summary = list(csv.DictReader(io.StringIO(days.text)))
    assert len(summary) == 4
    assert sum(int(r["orders"]) for r in summary) == 4


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2016-01-01", "to": "2026-01-01"}, 422, "to"),  # ten years
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "to"),  # backwards
        ({"from": "2099-01-01"}, 422, "from"),  # not yet
        ({"from": "yesterday"}, 400, None),  # not a date
        ({"format": "pdf"}, 400, None),
    ],
)
async def test_a_range_the_report_cannot_cover_gets_a_clear_answer(
    client: Client, menu: FixtureMenu, params: dict[str, str], status: int, field: str | None
) -> None:
    answer = await client.get(API, params=params, headers=STAFF_HEADERS)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert answer.json()["field"] == field


async def test_reports_are_for_managers(client: Client, menu: FixtureMenu) -> None:
    assert (await client.get(API)).status_code == 401


async def test_a_report_is_made_at_most_every_half_minute(
    app: Litestar, client: Client, conn: Conn, menu: FixtureMenu
) -> None:
    await a_days_trade(client, conn, menu)
    offset = timedelta()
    reports = SalesReports(
        runtime_of(app).services.pool,
        services(app)[0].tz,
        clock=lambda: datetime.now(UTC) + offset,
    )
    today = reports.today()
    first = await reports.report(today, today)
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201, placed.text
    again = await reports.report(today, today)
    # Within the half minute: the figures already read, and the report says as of when.
    assert again == first
    # Managers asking at once: one report made, every one of them answered with it.
    offset = timedelta(seconds=31)
    fresh, *others = await asyncio.gather(*(reports.report(today, today) for _ in range(5)))
    assert all(other is fresh for other in others)
    assert fresh.totals.orders == first.totals.orders + 1
    assert fresh.as_of > first.as_of
