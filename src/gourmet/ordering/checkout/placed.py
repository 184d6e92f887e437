"""An order as it is placed: who entered it, the time it asks for, and its view built from
what checkout wrote rather than read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from gourmet.ordering.checkout.repository import NewOrder
from gourmet.ordering.schemas import Address, OrderLine, OrderView, StatusChange, Totals

OVERRIDE_CAPACITY = 1_000_000  # a manager's override: the slot takes the order however full


@dataclass(frozen=True)
class Entry:
    """Who entered an order that staff took by phone, and whether a manager overrides a full
    slot and the pause of online ordering."""

    by: str
    override: bool = False

    @property
    def note(self) -> str:
        return "Taken by phone" + (
            "; manager override: slot capacity and pause not applied" if self.override else ""
        )


def new_order_view(
    order: NewOrder, number: int, created_at: datetime, lines: list[dict[str, Any]]
) -> OrderView:
    """The view of an order just stored, built from what was written (no read back). Typed
    field by field, so it cannot drift from what :func:`order_view` makes of a stored row."""
    cart = order.cart
    address = (
        Address(line1=order.address_line, postcode=order.postcode or "", city=order.city or "")
        if order.address_line
        else None
    )
    return OrderView(
        number=number,
        token=order.token,
        status=order.status,
        fulfilment=order.fulfilment,
        asap=order.asap,
        slot_start=order.slot_start,
        estimated_ready_at=order.slot_start,
        customer_name=order.customer_name,
        phone=order.phone,
        address=address,
        notes=order.notes,
        payment=order.payment_method,
        payment_status=order.payment_status,
        totals=Totals(
            subtotal_cents=cart.subtotal_cents,
            delivery_fee_cents=order.delivery_fee_cents,
            tax_cents=order.tax_cents,
            total_cents=cart.subtotal_cents
            + order.delivery_fee_cents
            + order.tax_cents
            + order.tip_cents,
            tip_cents=order.tip_cents,
        ),
        lines=msgspec.convert(lines, list[OrderLine]),  # the line documents as stored
        history=[
            StatusChange(order.status, created_at, order.entered_by or "customer", order.note)
        ],
        rejection_reason=None,
        created_at=created_at,
    )


def in_utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC; None without a time zone, or beyond the years a datetime holds once
    in UTC (0001-01-01T00:00:00+01:00 is in year 0)."""
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None
