"""Request and response shapes of the manager's API.

Every bound mirrors a CHECK constraint of ``db/migrations/0001_initial.sql`` (or keeps a number
inside PostgreSQL's ``integer``/``bigint`` where the schema has no CHECK), so a value the database
would refuse is refused here first, as a 422 naming the field. Money is integer cents.

Partial updates (``PATCH``) use ``msgspec.UNSET`` for "not sent": ``"stock": null`` means "stop
counting stock", a missing ``stock`` means "leave it as it is".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Fulfilment = Literal["pickup", "delivery"]

Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]  # bigint identity columns
Position = Annotated[int, Meta(ge=0, le=100_000)]
CategoryName = Annotated[str, Meta(min_length=1, max_length=80)]
ItemName = Annotated[str, Meta(min_length=1, max_length=120)]
Description = Annotated[str, Meta(max_length=1000)]
PriceCents = Annotated[int, Meta(ge=0, le=1_000_000)]
Stock = Annotated[int, Meta(ge=0, le=1_000_000)]
Tag = Annotated[str, Meta(min_length=1, max_length=40)]
Tags = Annotated[list[Tag], Meta(max_length=20)]
GroupName = Annotated[str, Meta(min_length=1, max_length=80)]
Choices = Annotated[int, Meta(ge=0, le=50)]
PriceDeltaCents = Annotated[int, Meta(ge=-100_000, le=100_000)]
Weekday = Annotated[int, Meta(ge=0, le=6)]  # 0 = Monday
OpensMinute = Annotated[int, Meta(ge=0, le=1439)]
ClosesMinute = Annotated[int, Meta(ge=1, le=1440)]  # 1440 = midnight at the end of the day
TaxRateBp = Annotated[int, Meta(ge=0, le=5000)]  # basis points: 1000 = 10 %
SlotMinutes = Annotated[int, Meta(ge=5, le=240)]
LeadMinutes = Annotated[int, Meta(ge=0, le=720)]
PrepMinutes = Annotated[int, Meta(ge=1, le=240)]
OrdersAtOnce = Annotated[int, Meta(ge=1, le=100)]
MaxOrders = Annotated[int, Meta(ge=0, le=10_000)]
ZoneName = Annotated[str, Meta(min_length=1, max_length=80)]
Prefix = Annotated[str, Meta(min_length=1, max_length=10)]
Prefixes = Annotated[list[Prefix], Meta(min_length=1, max_length=50)]
FeeCents = Annotated[int, Meta(ge=0, le=100_000)]
MinOrderCents = Annotated[int, Meta(ge=0, le=1_000_000)]
PauseMessage = Annotated[str, Meta(max_length=300)]

# -- the menu -------------------------------------------------------------------------------


class CategoryCreate(msgspec.Struct, frozen=True):
    name: CategoryName
    position: Position = 0


class CategoryPatch(msgspec.Struct, frozen=True):
    name: CategoryName | UnsetType = UNSET
    position: Position | UnsetType = UNSET


class CategoryView(msgspec.Struct, frozen=True):
    id: int
    name: str
    position: int
    item_count: int


class ItemCreate(msgspec.Struct, frozen=True):
    category_id: Id
    name: ItemName
    price_cents: PriceCents
    description: Description = ""
    allergens: Tags = msgspec.field(default_factory=list)
    dietary: Tags = msgspec.field(default_factory=list)
    available: bool = True
    stock: Stock | None = None  # None: not counted
    position: Position = 0
    prep_minutes: PrepMinutes | None = None  # None: the lead time


class ItemPatch(msgspec.Struct, frozen=True):
    category_id: Id | UnsetType = UNSET
    name: ItemName | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    price_cents: PriceCents | UnsetType = UNSET
    allergens: Tags | UnsetType = UNSET
    dietary: Tags | UnsetType = UNSET
    available: bool | UnsetType = UNSET
    stock: Stock | UnsetType | None = UNSET
    # Portions each of the restaurant's days starts with (None: no daily reset).
    daily_stock: Stock | UnsetType | None = UNSET
    position: Position | UnsetType = UNSET
    # Minutes to make it (None: the lead time).
    prep_minutes: PrepMinutes | UnsetType | None = UNSET


class Availability(msgspec.Struct, frozen=True):
    """The 86 switch; ``until`` (with ``available`` false) snoozes the item: it comes back by
    itself at that moment (the end of service, tomorrow, a date)."""

    available: bool
    until: datetime | None = None


class StockLevel(msgspec.Struct, frozen=True):
    stock: Stock | None  # None: stop counting


class OptionIn(msgspec.Struct, frozen=True):
    """An option; with ``id`` it is the existing option kept (and updated), without it a new one.
    Options ordered in the past can only be kept: switch them off with ``available``."""

    name: GroupName
    price_delta_cents: PriceDeltaCents = 0
    available: bool = True
    id: Id | None = None


class GroupIn(msgspec.Struct, frozen=True):
    name: GroupName
    options: Annotated[list[OptionIn], Meta(min_length=1, max_length=50)]
    min_choices: Choices = 0
    max_choices: Annotated[int, Meta(ge=1, le=50)] = 1
    id: Id | None = None


class ModifierGroups(msgspec.Struct, frozen=True):
    """The item's whole set of modifier groups, in the order customers see them."""

    groups: Annotated[list[GroupIn], Meta(max_length=20)]


class OptionView(msgspec.Struct, frozen=True):
    id: int
    name: str
    price_delta_cents: int
    available: bool
    position: int


class GroupView(msgspec.Struct, frozen=True):
    id: int
    name: str
    min_choices: int
    max_choices: int
    position: int
    options: list[OptionView]


class ItemView(msgspec.Struct, frozen=True):
    """An item as the manager sees it: the switch and the stock apart, and whether customers can
    order it now (switched on and, when counted, not sold out)."""

    id: int
    category_id: int
    name: str
    description: str
    price_cents: int
    allergens: list[str]
    dietary: list[str]
    available: bool
    stock: int | None
    orderable: bool
    daily_stock: int | None
    position: int
    modifier_groups: list[GroupView]
    prep_minutes: int | None = None
    back_at: datetime | None = None  # snoozed: when it comes back by itself


class ManagedCategory(msgspec.Struct, frozen=True):
    id: int
    name: str
    position: int
    items: list[ItemView]


class ManagedMenu(msgspec.Struct, frozen=True):
    categories: list[ManagedCategory]


# -- the restaurant's rules -----------------------------------------------------------------


class RestaurantSettings(msgspec.Struct, frozen=True):
    tax_rate_bp: TaxRateBp
    slot_minutes: SlotMinutes
    lead_minutes: LeadMinutes
    # What a slot's capacity counts: orders, or items (ten pizzas weigh ten).
    capacity_unit: Literal["orders", "items"] = "orders"
    # Orders the kitchen makes side by side: ASAP quotes then count the make-minutes of the
    # orders ahead (None: they do not; quotes are the lead time, or an item's longer prep).
    orders_at_once: OrdersAtOnce | None = None


class RestaurantDetails(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What customers need to reach the restaurant (shown on the menu page)."""

    name: Annotated[str, Meta(min_length=1, max_length=80)]
    address: Annotated[str, Meta(max_length=300)] = ""
    # Digits, spaces and + ( ) - . only: it becomes a tel: link.
    phone: Annotated[str, Meta(max_length=40, pattern=r"^[0-9 +().-]*$")] = ""


class Period(msgspec.Struct, frozen=True):
    weekday: Weekday
    opens_minute: OpensMinute
    closes_minute: ClosesMinute
    # Hours for pickup only, delivery only, or both (the default).
    fulfilment: Literal["both", "pickup", "delivery"] = "both"


class SpecialDay(msgspec.Struct, frozen=True):
    """A date with hours of its own: ``closed`` (a holiday; ``message`` says why), or open
    from ``opens_minute`` to ``closes_minute`` only. It replaces the week's periods that day."""

    day: date
    closed: bool
    opens_minute: OpensMinute | None = None
    closes_minute: ClosesMinute | None = None
    message: Annotated[str, Meta(max_length=200)] = ""


class SpecialDays(msgspec.Struct, frozen=True):
    """Every special day (the list replaces the old one)."""

    days: Annotated[list[SpecialDay], Meta(max_length=366)]


class OpeningHours(msgspec.Struct, frozen=True):
    """The whole week; a weekday without periods is closed."""

    periods: Annotated[list[Period], Meta(max_length=70)]


class Capacity(msgspec.Struct, frozen=True):
    max_orders: MaxOrders  # orders per slot; 0 takes no orders of this kind


class ZoneCreate(msgspec.Struct, frozen=True):
    name: ZoneName
    postcode_prefixes: Prefixes
    fee_cents: FeeCents
    min_order_cents: MinOrderCents = 0


class ZonePatch(msgspec.Struct, frozen=True):
    name: ZoneName | UnsetType = UNSET
    postcode_prefixes: Prefixes | UnsetType = UNSET
    fee_cents: FeeCents | UnsetType = UNSET
    min_order_cents: MinOrderCents | UnsetType = UNSET


class ZoneView(msgspec.Struct, frozen=True):
    id: int
    name: str
    postcode_prefixes: list[str]
    fee_cents: int
    min_order_cents: int


class Pause(msgspec.Struct, frozen=True):
    paused: bool
    message: PauseMessage = ""


class RestaurantView(msgspec.Struct, frozen=True):
    name: str
    address: str
    phone: str
    tax_rate_bp: int
    slot_minutes: int
    lead_minutes: int
    capacity_unit: Literal["orders", "items"]
    orders_at_once: int | None
    ordering_paused: bool
    pause_message: str
    hours: list[Period]
    capacity: dict[str, int]
    special_days: list[SpecialDay]
    zones: list[ZoneView]
