"""What a sales report answers (``GET /api/manage/reports``). Amounts in cents."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class Totals(msgspec.Struct, frozen=True):
    orders: int
    gross_sales_cents: int  # the items, before delivery, tax and tips
    delivery_fees_cents: int
    tax_cents: int
    tips_cents: int
    total_cents: int  # what customers paid: the four above
    refunds_cents: int
    net_cents: int  # total less refunds


class DayFigures(msgspec.Struct, frozen=True):
    day: date
    totals: Totals


class HourFigures(msgspec.Struct, frozen=True):
    hour: int  # of the day, in the restaurant's time zone
    orders: int
    total_cents: int


class ItemFigures(msgspec.Struct, frozen=True):
    name: str  # the item with its options, as sold
    quantity: int
    sales_cents: int


class Breakdown(msgspec.Struct, frozen=True):
    key: str
    orders: int
    total_cents: int


class SalesReport(msgspec.Struct, frozen=True):
    from_day: date
    to_day: date
    time_zone: str
    currency: str
    totals: Totals
    by_day: list[DayFigures]
    by_hour: list[HourFigures]
    by_item: list[ItemFigures]
    best_sellers: list[ItemFigures]
    worst_sellers: list[ItemFigures]
    by_fulfilment: list[Breakdown]
    by_payment: list[Breakdown]
    # When these figures were read: a report asked for again within 30 s is the same one.
    as_of: datetime
