"""What can go wrong with an order, each with the status and words a customer can act on."""

from __future__ import annotations

from gourmet.problems import NotFound, Problem


class InvalidCart(Problem):
    status = 422
    slug = "invalid-cart"
    title = "The cart cannot be ordered as it is"


class InvalidTip(Problem):
    status = 422
    slug = "invalid-tip"
    title = "The tip cannot be taken as it is"


class UnknownItem(InvalidCart):
    slug = "unknown-item"
    title = "Unknown menu item"


class OptionRulesBroken(InvalidCart):
    slug = "option-rules"
    title = "Options do not fit the item"


class QuantityOutOfRange(InvalidCart):
    slug = "quantity-out-of-range"
    title = "Quantity out of range"


class ItemUnavailable(Problem):
    status = 409
    slug = "item-unavailable"
    title = "Item not available right now"


class SlotFull(Problem):
    status = 409
    slug = "slot-full"
    title = "That time slot is full"


class OutsideOpeningHours(Problem):
    status = 422
    slug = "outside-opening-hours"
    title = "Outside opening hours"


class AddressRequired(Problem):
    status = 422
    slug = "address-required"
    title = "A delivery address is needed"


class OutsideDeliveryZone(Problem):
    status = 422
    slug = "outside-delivery-zone"
    title = "We do not deliver to this address"


class BelowMinimumOrder(Problem):
    status = 422
    slug = "below-minimum-order"
    title = "Below the minimum order for delivery"


class OrderingPaused(Problem):
    status = 409
    slug = "ordering-paused"
    title = "Online ordering is paused"


class IdempotencyKeyReused(Problem):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key already used for a different order"


class InvalidTransition(Problem):
    status = 409
    slug = "invalid-transition"
    title = "Status change not allowed"


class ReasonRequired(Problem):
    status = 422
    slug = "reason-required"
    title = "A reason is required"


class CardTokenRequired(Problem):
    status = 422
    slug = "card-token-required"
    title = "Card details are missing"


class CardConfirmedInBrowser(Problem):
    status = 422
    slug = "card-confirmed-in-browser"
    title = "Cards are confirmed in the browser here"


class BadSignature(Problem):
    status = 400
    slug = "bad-signature"
    title = "The webhook's signature is not valid"


class PaymentDeclined(Problem):
    status = 402
    slug = "payment-declined"
    title = "The card was declined"


class PaymentsUnavailable(Problem):
    status = 503
    slug = "payments-unavailable"
    title = "Card payments are not working right now"

    def __init__(self, detail: str, retry_after_s: int, **extra: object) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.headers["Retry-After"] = str(retry_after_s)


class PaymentNotPossible(Problem):
    status = 409
    slug = "payment-not-possible"
    title = "This order cannot be paid now"


class MenuChanged(Problem):
    status = 409
    slug = "menu-changed"
    title = "The menu changed while you were ordering"


def no_such_order() -> NotFound:
    """The answer for a tracking token that names no order (or never could)."""
    return NotFound("There is no order with this tracking link. Check the link you were sent.")


class TooLateToCancel(Problem):
    status = 409
    slug = "too-late-to-cancel"
    title = "The kitchen has already taken this order"


class NothingToRefund(Problem):
    status = 409
    slug = "nothing-to-refund"
    title = "Nothing of this order can be refunded"


class RefundTooLarge(Problem):
    """More than what is left of the payment; ``refundable_cents`` says how much is."""

    status = 422
    slug = "refund-too-large"
    title = "More than was paid"


class InvalidRefund(Problem):
    status = 422
    slug = "invalid-refund"
    title = "The refund cannot be made as asked"
