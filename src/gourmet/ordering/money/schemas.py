"""A manager's refund: what is asked (a whole order, chosen lines or an amount) and what was
given back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

RefundMethod = Literal["card", "cash"]
RefundState = Literal["pending", "done", "failed"]


class RefundLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    position: Annotated[int, msgspec.Meta(ge=1, le=1000)]  # the line's place in the order, from 1
    quantity: Annotated[int, msgspec.Meta(ge=1, le=50)]


class RefundRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Exactly one of ``whole``, ``lines`` and ``amount_cents``; always a reason."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    whole: bool = False
    lines: Annotated[list[RefundLine], msgspec.Meta(min_length=1, max_length=100)] | None = None
    amount_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)] | None = None


class RefundView(msgspec.Struct, frozen=True):
    id: int
    amount_cents: int
    method: RefundMethod  # card: through the provider; cash: handed over at the counter
    reason: str
    lines: list[RefundLine] | None
    state: RefundState  # a card refund is pending until the provider has made it
    requested_by: str
    created_at: datetime
    done_at: datetime | None


class OrderRefunds(msgspec.Struct, frozen=True):
    """An order's refunds, and what is left to give back."""

    order: int
    paid_cents: int  # 0 while nothing is paid (a pay-at-pickup order not yet collected)
    refunded_cents: int  # given back, by hand or when the order ended unserved
    pending_cents: int  # asked of the provider, not yet made
    refundable_cents: int
    refunds: list[RefundView]
