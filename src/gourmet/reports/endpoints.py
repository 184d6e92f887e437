"""HTTP for the manager's sales reports: ``GET /api/manage/reports`` (JSON, or CSV).

``from`` and ``to`` are local days (``YYYY-MM-DD``, the restaurant's time zone), both included,
at most a year and a day apart; both default to today. ``format=csv`` answers the sold orders of
those days, one per line; ``format=summary-csv`` the figures of each day. Reports are admitted at
the lowest priority (``routes.py``): a manager reading a year during a rush waits, checkout
does not.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from litestar import MediaType, Response, Router, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from gourmet.accounts.guards import require_role
from gourmet.reports.errors import InvalidRange
from gourmet.reports.schemas import SalesReport
from gourmet.reports.service import SalesReports

MAX_DAYS = 367  # a year and a day: the same day last year, compared with today
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ORDER_COLUMNS = (
    "number",
    "placed_at",
    "fulfilment",
    "payment",
    "gross_sales_cents",
    "delivery_fee_cents",
    "tax_cents",
    "tip_cents",
    "total_cents",
    "refunded_cents",
)
DAY_COLUMNS = (
    "day",
    "orders",
    "gross_sales_cents",
    "delivery_fees_cents",
    "tax_cents",
    "tips_cents",
    "total_cents",
    "refunds_cents",
    "net_cents",
)


def _range(reports: SalesReports, first: date | None, last: date | None) -> tuple[date, date]:
    today = reports.today()
    first, last = first or last or today, last or first or today
    if last < first:
        raise InvalidRange("The report's end (to) is before its start (from).", field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidRange(
            f"A report covers at most {MAX_DAYS} days; choose a shorter range.", field="to"
        )
    if first > today + timedelta(days=1):
        raise InvalidRange("That range has not happened yet.", field="from")
    return first, last


@get(
    "/",
    summary="Sales: orders, gross sales, tax, tips, delivery fees, refunds and net, by day, hour,"
    " item, fulfilment and payment (JSON, or CSV with format=csv or format=summary-csv)",
    responses={
        200: ResponseSpec(
            data_container=SalesReport,
            description="The report as JSON (with format=csv or summary-csv: text/csv)",
        )
    },
)
async def sales_report(
    reports: NamedDependency[SalesReports],
    first: Annotated[date | None, QueryParameter(name="from")] = None,
    last: Annotated[date | None, QueryParameter(name="to")] = None,
    shape: Annotated[Literal["json", "csv", "summary-csv"], QueryParameter(name="format")] = "json",
) -> Response[Any]:
    first, last = _range(reports, first, last)
    if shape == "csv":
        rows = await reports.orders(first, last)
        lines = [
            [
                row["id"],
                row["created_at"].astimezone(reports.tz).isoformat(timespec="seconds"),
                row["fulfilment"],
                row["payment_method"],
                row["subtotal_cents"],
                row["delivery_fee_cents"],
                row["tax_cents"],
                row["tip_cents"],
                row["total_cents"],
                row["refunded_cents"],
            ]
            for row in rows
        ]
        return _csv(ORDER_COLUMNS, lines, f"orders-{first}-{last}.csv")
    if shape == "summary-csv":
        report = await reports.report(first, last)
        lines = [[str(day.day), *_totals_row(day.totals)] for day in report.by_day]
        return _csv(DAY_COLUMNS, lines, f"sales-{first}-{last}.csv")
    return Response(await reports.report_json(first, last), media_type=MediaType.JSON)


def _totals_row(totals: Any) -> list[int]:
    return [
        totals.orders,
        totals.gross_sales_cents,
        totals.delivery_fees_cents,
        totals.tax_cents,
        totals.tips_cents,
        totals.total_cents,
        totals.refunds_cents,
        totals.net_cents,
    ]


def _csv(columns: tuple[str, ...], rows: list[list[Any]], filename: str) -> Response[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


router = Router(
    path="/api/manage/reports",
    route_handlers=[sales_report],
    guards=[require_role("manager")],
    tags=["manage"],
)
