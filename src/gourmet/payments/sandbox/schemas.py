"""The sandbox provider's wire format and test card tokens (the service is in ``app.py``).

Constraints live on the types, so msgspec rejects a malformed request while decoding it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

DECLINES = {
    "tok_decline": "card_declined",
    "tok_insufficient_funds": "insufficient_funds",
    "tok_expired": "expired_card",
}
APPROVES = frozenset({"tok_visa", "tok_mastercard"})

FailureStatus = Literal[500, 502, 503, 504]
Rate = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Millis = Annotated[float, msgspec.Meta(ge=0.0)]


class SandboxConfig(msgspec.Struct, kw_only=True):
    latency_ms: Millis = 0.0  # added to every charge request, failed or not, as real providers do
    failure_rate: Rate = 0.0  # share of charge requests answered with failure_status
    failure_status: FailureStatus = 503


class ControlIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    latency_ms: Millis | None = None
    failure_rate: Rate | None = None
    failure_status: FailureStatus | None = None
    reset: bool = False  # forget all charges and counters (and drop requests still sleeping)


class ChargeIn(msgspec.Struct, kw_only=True):
    amount_cents: Annotated[int, msgspec.Meta(gt=0)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
    description: Annotated[str, msgspec.Meta(max_length=500)]
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Charge(msgspec.Struct, kw_only=True):
    id: str
    idempotency_key: str
    status: Literal["approved", "declined"]
    reason: str | None
    request: ChargeIn  # kept to tell a retry from a reuse of the key for another charge


class RefundIn(msgspec.Struct, kw_only=True):
    charge_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    amount_cents: Annotated[int, msgspec.Meta(gt=0)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Refund(msgspec.Struct, kw_only=True):
    id: str
    idempotency_key: str
    charge_id: str
    amount_cents: int
    status: Literal["succeeded"] = "succeeded"
    request: RefundIn  # kept to tell a retry from a reuse of the key for another refund
