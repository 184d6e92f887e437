"""The menu as customers see it."""

from __future__ import annotations

from datetime import date

import msgspec


class Option(msgspec.Struct, frozen=True):
    id: int
    name: str
    price_delta_cents: int
    available: bool


class ModifierGroup(msgspec.Struct, frozen=True):
    id: int
    name: str
    min_choices: int
    max_choices: int
    options: list[Option]


class Item(msgspec.Struct, frozen=True):
    id: int
    category_id: int
    name: str
    description: str
    price_cents: int
    allergens: list[str]
    dietary: list[str]
    available: bool
    modifier_groups: list[ModifierGroup]
    # Minutes to make it; None: the restaurant's lead time.
    prep_minutes: int | None = None


class Category(msgspec.Struct, frozen=True):
    id: int
    name: str
    items: list[Item]


class OpenHours(msgspec.Struct, frozen=True):
    weekday: int  # 0 = Monday
    opens_minute: int
    closes_minute: int
    fulfilment: str  # both, pickup or delivery


class DayNotice(msgspec.Struct, frozen=True):
    """A special day ahead (the manager's): closed (a holiday), or open these hours only."""

    day: date
    closed: bool
    opens_minute: int | None
    closes_minute: int | None
    message: str


class Menu(msgspec.Struct, frozen=True):
    restaurant: str
    ordering_paused: bool
    pause_message: str
    categories: list[Category]
    # How to reach the restaurant, its week, and its special days of the month ahead (the
    # page says today's in the restaurant's time zone: the cached page lives past midnight).
    address: str = ""
    phone: str = ""
    hours: list[OpenHours] = msgspec.field(default_factory=list)
    special_days: list[DayNotice] = msgspec.field(default_factory=list)
