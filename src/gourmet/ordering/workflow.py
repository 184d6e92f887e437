"""The order status workflow: which change is allowed from where, and what it needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from gourmet.ordering.errors import InvalidTransition, ReasonRequired
from gourmet.ordering.schemas import Fulfilment, OrderStatus

TRANSITIONS: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    # Left only by the payment flow (paid, or switched to pay at pickup) or by cancelling.
    "awaiting_payment": frozenset({"received", "cancelled"}),
    "received": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"preparing", "cancelled"}),
    "preparing": frozenset({"ready", "cancelled"}),
    "ready": frozenset({"completed", "out_for_delivery"}),
    "out_for_delivery": frozenset({"delivered"}),
    "completed": frozenset(),
    "delivered": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}

# Open for the kitchen: an order waiting for its card payment is not theirs yet.
OPEN_STATUSES: Final = frozenset(s for s, nexts in TRANSITIONS.items() if nexts) - {
    "awaiting_payment"
}
# Still to make: the kitchen's backlog, counted by busy mode and by ASAP quotes; and of those,
# only orders due this soon (orders due later are not the kitchen's rush).
TO_MAKE: Final[tuple[OrderStatus, ...]] = ("received", "accepted", "preparing")
DUE_SOON: Final = timedelta(hours=2)
# Ending an order this way gives its slot and stock back.
RELEASING_STATUSES: Final[frozenset[OrderStatus]] = frozenset({"rejected", "cancelled"})
# Moves only the payment flow makes; staff cannot mark an unpaid card order as received.
_PAYMENT_ONLY: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    "awaiting_payment": frozenset({"received"})
}
_PICKUP_ONLY: Final[frozenset[OrderStatus]] = frozenset({"completed"})
_DELIVERY_ONLY: Final[frozenset[OrderStatus]] = frozenset({"out_for_delivery", "delivered"})


def check_transition(
    current: OrderStatus, target: OrderStatus, fulfilment: Fulfilment, reason: str | None
) -> None:
    """Raise unless ``current`` → ``target`` is a valid step for this order."""
    allowed = TRANSITIONS[current] - _PAYMENT_ONLY.get(current, frozenset())
    if target not in allowed or (
        (fulfilment == "pickup" and target in _DELIVERY_ONLY)
        or (fulfilment == "delivery" and target in _PICKUP_ONLY)
    ):
        choices = sorted(next_status_options(current, fulfilment))
        raise InvalidTransition(
            f"An order that is {current} cannot become {target}.",
            current=current,
            allowed=choices,
        )
    if target == "rejected" and not (reason and reason.strip()):
        raise ReasonRequired("Say why the order is rejected; the customer will see it.")


def next_status_options(current: OrderStatus, fulfilment: Fulfilment) -> frozenset[OrderStatus]:
    excluded = _DELIVERY_ONLY if fulfilment == "pickup" else _PICKUP_ONLY
    return TRANSITIONS[current] - excluded - _PAYMENT_ONLY.get(current, frozenset())
