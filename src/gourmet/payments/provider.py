"""The payment-provider interface: what checkout may ask of a card provider and what can go wrong.

Three outcomes, kept apart because the caller must act differently on each:

- an answer (:class:`ChargeResult`, approved or declined): final; a decline is the provider working
  as intended, so it is a result, never a provider failure (and never trips a circuit breaker);
- :class:`ProviderUnavailable` and its subclasses: transient, nothing is known to have been charged
  *or not*. Retry later with the same idempotency key, or offer pay at pickup;
- :class:`PaymentRequestRejected`: the provider refused the request itself (our bug); final.

Every call carries the order's idempotency key, and providers promise to charge a key at most once.
That is what makes the transient case safe: after a timeout the charge may well have gone through,
and only a retry with the *same* key finds out without charging twice.

Callers must not hold a database connection while they await a provider: a slow provider would
then drain the pool, which is how the November outage began.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ChargeStatus(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The provider's final answer for one idempotency key."""

    status: ChargeStatus
    charge_id: str  # the provider's id: what a refund or a dispute will refer to
    reason: str | None = None  # why a charge was declined ("card_declined", "expired_card", ...)

    @property
    def approved(self) -> bool:
        return self.status is ChargeStatus.APPROVED

    def require_approved(self) -> ChargeResult:
        """Return self if approved, else raise :class:`PaymentDeclined`: for callers that would
        rather handle a decline as an exception than branch on the status."""
        if not self.approved:
            raise PaymentDeclined(self)
        return self


@dataclass(frozen=True, slots=True)
class RefundResult:
    """The provider's answer to a refund: done, under its id."""

    refund_id: str
    charge_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class LedgerCharge:
    """A charge as the provider records it, for reconciliation."""

    charge_id: str
    idempotency_key: str
    approved: bool
    amount_cents: int


@dataclass(frozen=True, slots=True)
class LedgerRefund:
    refund_id: str
    idempotency_key: str
    charge_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Ledger:
    """Everything the provider has recorded: what reconciliation compares with the orders."""

    charges: tuple[LedgerCharge, ...]
    refunds: tuple[LedgerRefund, ...]


class PaymentError(Exception):
    """Base of every payment failure, so that a caller can catch them all in one place."""


class ProviderUnavailable(PaymentError):  # noqa: N818 - reads as the condition it reports
    """Transient: the provider could not be reached, failed (5xx, 429) or did not answer in time.

    The outcome of the charge is unknown. Retry later with the same idempotency key, or fall back
    to pay at pickup. ``retry_after_s`` is the provider's (or the breaker's) hint, if any.
    """

    def __init__(self, detail: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer within the call's timeout (the charge may have succeeded)."""


class CircuitOpen(ProviderUnavailable):
    """Rejected by the circuit breaker without calling the provider: it has been failing, so the
    call is refused at once instead of making a customer wait for another timeout."""


class PaymentDeclined(PaymentError):  # noqa: N818 - a decline is an outcome, not a bug
    """Final: the card was declined (raised by :meth:`ChargeResult.require_approved`)."""

    def __init__(self, result: ChargeResult) -> None:
        super().__init__(
            f"charge {result.charge_id} declined: {result.reason or 'no reason given'}"
        )
        self.result = result


class PaymentRequestRejected(PaymentError):  # noqa: N818 - named for what the provider did
    """Final: the provider refused the request itself (malformed, or an idempotency key reused
    with different parameters). Retrying the same request cannot help; it is a bug to fix."""

    def __init__(self, detail: str, *, status_code: int) -> None:
        super().__init__(detail)
        self.status_code = status_code


class PaymentProvider(Protocol):
    """A card payment provider (the HTTP client, a breaker around it, a test double)."""

    async def charge(
        self,
        *,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        description: str,
        card_token: str,
    ) -> ChargeResult:
        """Charge ``amount_cents`` to the card behind ``card_token``, at most once per key.

        Returns approved or declined; raises :class:`ProviderUnavailable` (transient) or
        :class:`PaymentRequestRejected` (final)."""
        ...

    async def settle_attempt(
        self, *, idempotency_key: str, reference: str | None = None
    ) -> ChargeResult | None:
        """Close the charge attempt under ``idempotency_key`` and say how it ended.

        ``reference`` is the provider's own id of the attempt, where it has one (a Stripe
        PaymentIntent): its id cannot be derived from the key.

        Returns the provider's final answer when a charge was made under the key, or None when
        none was; either way the provider refuses any charge under the key from then on, so a
        request still travelling cannot charge the card after its order stopped waiting for it.
        Raises :class:`ProviderUnavailable` when the provider cannot say (it is down, or the
        attempt is still in progress there): ask again later."""
        ...

    async def refund(
        self, *, idempotency_key: str, charge_id: str, amount_cents: int, reason: str
    ) -> RefundResult:
        """Give ``amount_cents`` of charge ``charge_id`` back, at most once per key.

        Raises :class:`ProviderUnavailable` (transient: retry with the same key) or
        :class:`PaymentRequestRejected` (final: no such charge, or more than it left)."""
        ...


@dataclass(frozen=True, slots=True)
class Intent:
    """A payment the customer's browser confirms with the provider (a Stripe PaymentIntent):
    what the browser needs, and where it stands."""

    id: str
    client_secret: str
    status: str
    amount_cents: int

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """The provider's word, checked, that a payment changed (a Stripe webhook event)."""

    id: str  # each event is handled once, by its id
    type: str
    intent_id: str
    order_token: str | None
    succeeded: bool


class BadEventSignature(PaymentError):  # noqa: N818 - named for what the delivery carried
    """A webhook delivery whose signature does not match its body or is too old: not the
    provider's word."""


class BrowserConfirmedProvider(PaymentProvider, Protocol):
    """A provider whose card form runs in the customer's browser, from the provider's own
    script: the server makes the payment, the browser confirms it, the provider says how it
    ended (a signed webhook)."""

    publishable_key: str

    async def start_intent(
        self,
        *,
        idempotency_key: str,
        order_token: str,
        amount_cents: int,
        currency: str,
        description: str,
    ) -> Intent:
        """The attempt's payment, made once per key, for the browser to confirm."""
        ...

    async def intent(self, intent_id: str) -> Intent:
        """Where a payment stands now."""
        ...

    def event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        """A webhook delivery, its signature checked (:class:`BadEventSignature` if wrong)."""
        ...

    async def aclose(self) -> None:
        """Close its connections (the application's shutdown)."""
        ...
