"""Request and response shapes of the ordering API.

Unknown fields are ignored on purpose: a client may send prices, and they are never read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from gourmet.notify.addresses import one_mailbox

Fulfilment = Literal["pickup", "delivery"]
PaymentMethod = Literal["pay_at_pickup", "card"]
PaymentStatus = Literal[
    "not_required", "pending", "paid", "declined", "failed", "refund_pending", "refunded"
]
OrderStatus = Literal[
    "awaiting_payment",
    "received",
    "accepted",
    "preparing",
    "ready",
    "out_for_delivery",
    "completed",
    "delivered",
    "rejected",
    "cancelled",
]

MAX_LINES = 50
MAX_QUANTITY = 50  # of one line
# Of a whole order: without it, 50 lines of 50 made one order of 2,500 units (#14). A caterer's
# order larger than this is a phone call.
MAX_UNITS = 100
MAX_TIP_PERCENT = 50
MAX_TIP_CENTS = 100_000  # $1,000: a typo, not a tip


class CartLine(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    item_id: int
    quantity: int = 1
    option_ids: list[int] = msgspec.field(default_factory=list)
    notes: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Customer(msgspec.Struct, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    phone: Annotated[str, msgspec.Meta(min_length=5, max_length=32)]
    email: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class Address(msgspec.Struct, frozen=True):
    line1: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    postcode: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    city: Annotated[str, msgspec.Meta(max_length=100)] = ""


class CheckoutRequest(msgspec.Struct, frozen=True):
    fulfilment: Fulfilment
    customer: Customer
    lines: list[CartLine]
    slot: datetime | None = None  # None: as soon as possible
    address: Address | None = None
    notes: Annotated[str, msgspec.Meta(max_length=500)] = ""
    payment: PaymentMethod = "pay_at_pickup"
    # A token from the payment provider's card form (never a card number), for payment="card".
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    # A tip: a percentage of the subtotal, or an amount; not both.
    tip_percent: Annotated[int, msgspec.Meta(ge=0, le=MAX_TIP_PERCENT)] | None = None
    tip_cents: Annotated[int, msgspec.Meta(ge=0, le=MAX_TIP_CENTS)] | None = None


class PhoneOrder(CheckoutRequest, frozen=True):
    """An order staff enter for a caller: a checkout, paid at pickup, and a manager may
    ``override`` a full slot or the pause of online ordering (recorded in its history)."""

    override: bool = False


Checkout = TypeVar("Checkout", bound=CheckoutRequest)


def with_one_mailbox(request: Checkout) -> Checkout:
    """The request with the customer's email checked to be exactly one mailbox and normalized
    (InvalidEmail, 422, naming ``customer.email``, before anything is written); a blank one is
    no email. A 400 from the schema would not say what is wrong with the address."""
    email = request.customer.email
    checked = one_mailbox(email, field="customer.email") if email and email.strip(" ") else None
    if checked == email:
        return request
    customer = msgspec.structs.replace(request.customer, email=checked)
    return msgspec.structs.replace(request, customer=customer)


class CardPayment(msgspec.Struct, frozen=True):
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LineOption(msgspec.Struct, frozen=True):
    option_id: int
    group: str
    name: str
    price_delta_cents: int


class OrderLine(msgspec.Struct, frozen=True):
    item_id: int
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int
    notes: str
    options: list[LineOption]


class StatusChange(msgspec.Struct, frozen=True):
    status: OrderStatus
    at: datetime
    actor: str
    reason: str | None = None


class Totals(msgspec.Struct, frozen=True):
    subtotal_cents: int
    delivery_fee_cents: int
    tax_cents: int
    total_cents: int
    tip_cents: int = 0  # in the total, not taxed


class OrderView(msgspec.Struct, frozen=True):
    number: int
    token: str
    status: OrderStatus
    fulfilment: Fulfilment
    asap: bool
    slot_start: datetime
    estimated_ready_at: datetime
    customer_name: str
    phone: str
    address: Address | None
    notes: str
    payment: PaymentMethod
    payment_status: PaymentStatus
    totals: Totals
    lines: list[OrderLine]
    history: list[StatusChange]
    rejection_reason: str | None
    created_at: datetime
    refunded_cents: int = 0  # given back: to the card, or in cash by hand


class Slot(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime
    capacity: int
    remaining: int
    available: bool


class AsapQuote(msgspec.Struct, frozen=True):
    lead_minutes: int
    ahead_minutes: float
    default_prep_minutes: int


class SlotList(msgspec.Struct, frozen=True):
    fulfilment: Fulfilment
    slots: list[Slot]
    # Today is a special day the restaurant is closed: its message ("" when it has none).
    closed_today: str | None = None
    # How soon an order placed now can be ready, in minutes: the lead time, or longer when the
    # kitchen has orders to make ahead of it (for an order of the usual prep time).
    asap_minutes: int | None = None
    # What it is made of, for a given cart: max(lead_minutes, ceil(ahead_minutes + the cart's
    # longest prep time)), an item without one taking default_prep_minutes.
    asap_quote: AsapQuote | None = None


class StatusUpdate(msgspec.Struct, frozen=True):
    status: OrderStatus
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class KitchenCard(msgspec.Struct, frozen=True):
    """An open order as the kitchen board shows it, with the moves it allows."""

    order: OrderView
    next_statuses: list[OrderStatus]
