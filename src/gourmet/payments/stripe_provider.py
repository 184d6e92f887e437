"""``StripeProvider``: the :class:`PaymentProvider` interface over Stripe, with its own library.

A card order has one PaymentIntent per payment attempt, created with the attempt's idempotency
key (``<order token>-<attempt>``), so a checkout retried any number of times makes one intent and
charges at most once. The customer's browser confirms it with Stripe's Payment Element (3-D
Secure and other next actions happen there); Stripe then tells us by a signed webhook
(:mod:`gourmet.ordering.money.intents`). The attempt's key and the order's token travel in the
intent's metadata: that is how a webhook and reconciliation find the order; the intent's id,
kept on the order, is how a settlement cancels it. (:meth:`StripeProvider.charge`, a card
confirmed on the server, is the interface's; checkout never uses it with Stripe, see
``gourmet.ordering.money.service.IN_BROWSER``.)

Every way a call can fail maps to one of the interface's outcomes, as the sandbox client does:
unreachable, timed out, 5xx, 409 and 429 are transient (:class:`ProviderUnavailable`); a card
error is a decline; any other 4xx is :class:`PaymentRequestRejected`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Final, TypeVar

import stripe

from gourmet.payments.provider import (
    BadEventSignature,
    ChargeResult,
    ChargeStatus,
    Intent,
    Ledger,
    LedgerCharge,
    LedgerRefund,
    PaymentError,
    PaymentEvent,
    PaymentRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RefundResult,
)

T = TypeVar("T")
# Stripe's library logs every request at INFO: one line per call of ours is enough (our own).
logging.getLogger("stripe").setLevel(logging.WARNING)
TRANSIENT_STATUS: Final = frozenset({408, 409, 425, 429})
# Still moving at Stripe: neither paid nor closable yet (a bank transfer clearing, say).
IN_PROGRESS: Final = frozenset({"processing", "requires_capture"})
# Stripe keeps 500 characters of a metadata value.
METADATA_VALUE_MAX: Final = 500
PAGE: Final = 100
# Stripe's default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_S: Final = 300


class StripeProvider:
    """Stripe's API through its official client. ``api_url`` points it elsewhere (the tests'
    local stand-in); ``timeout_s`` bounds each whole call."""

    def __init__(
        self,
        *,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_url: str | None = None,
        timeout_s: float = 5.0,
        budget: Callable[[float], float] | None = None,
    ) -> None:
        self._http = _FormClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_url} if api_url else None,
            http_client=self._http,
            # Our own callers retry with the same key (the outbox, the customer's next try):
            # a retry inside the call would only stretch a customer's wait past its deadline.
            max_network_retries=0,
        )
        self.publishable_key = publishable_key
        self._webhook_secret = webhook_secret
        self._timeout_s = timeout_s
        self._budget = budget

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    # -- the browser's flow -------------------------------------------------------------------

    async def start_intent(
        self,
        *,
        idempotency_key: str,
        order_token: str,
        amount_cents: int,
        currency: str,
        description: str,
    ) -> Intent:
        """The attempt's PaymentIntent, for the browser to confirm: created once per key."""
        intent = await self._call(
            lambda: self._client.v1.payment_intents.create_async(
                {
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "description": description,
                    "automatic_payment_methods": {"enabled": True},
                    "metadata": {"order_token": order_token, "attempt_key": idempotency_key},
                },
                {"idempotency_key": idempotency_key},
            )
        )
        return _intent(intent)

    async def intent(self, intent_id: str) -> Intent:
        found = await self._call(lambda: self._client.v1.payment_intents.retrieve_async(intent_id))
        return _intent(found)

    def event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        """A webhook delivery, its ``Stripe-Signature`` checked against the signing secret
        (and refused past Stripe's five minutes' tolerance: a replay)."""
        try:
            event = stripe.Webhook.construct_event(
                payload.decode(), signature or "", self._webhook_secret, SIGNATURE_TOLERANCE_S
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise BadEventSignature(str(exc)) from exc
        payment = event.data.object  # a PaymentIntent for the events Gourmet acts on
        return PaymentEvent(
            id=event.id,
            type=event.type,
            intent_id=str(getattr(payment, "id", "")),
            order_token=_metadata(payment, "order_token"),
            succeeded=event.type == "payment_intent.succeeded",
        )

    # -- the PaymentProvider interface --------------------------------------------------------

    async def charge(
        self,
        *,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        description: str,
        card_token: str,
    ) -> ChargeResult:
        """Charge a PaymentMethod (``pm_...``) confirmed on the server: for API clients that
        collected the card with Stripe themselves. One that needs the customer (3-D Secure)
        is declined as ``authentication_required``, as Stripe names it."""
        try:
            intent = await self._call(
                lambda: self._client.v1.payment_intents.create_async(
                    {
                        "amount": amount_cents,
                        "currency": currency.lower(),
                        "description": description,
                        "payment_method": card_token,
                        # Confirmed here, so no redirect to a bank's page can follow.
                        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                        "confirm": True,
                        "metadata": {"attempt_key": idempotency_key},
                    },
                    {"idempotency_key": idempotency_key},
                )
            )
        except _Declined as declined:
            return ChargeResult(ChargeStatus.DECLINED, declined.intent_id, declined.reason)
        if intent.status == "succeeded":
            return ChargeResult(ChargeStatus.APPROVED, intent.id)
        if intent.status in IN_PROGRESS:
            raise ProviderUnavailable(f"payment {intent.id} is still {intent.status}")
        return ChargeResult(ChargeStatus.DECLINED, intent.id, "authentication_required")

    async def settle_attempt(
        self, *, idempotency_key: str, reference: str | None = None
    ) -> ChargeResult | None:
        """Cancel the attempt's intent (``reference``) unless it succeeded: a browser still
        holding its client secret can no longer confirm it. None when it never charged."""
        if reference is None:
            return None  # no intent was ever handed to a browser under this key
        intent = await self.intent(reference)
        if intent.status not in ("succeeded", "canceled", *IN_PROGRESS):
            try:
                intent = _intent(
                    await self._call(
                        lambda: self._client.v1.payment_intents.cancel_async(
                            reference, {"cancellation_reason": "abandoned"}
                        )
                    )
                )
            except PaymentRequestRejected:
                # It moved on meanwhile (succeeded, say): read where it stands now.
                intent = await self.intent(reference)
        if intent.status in IN_PROGRESS:
            raise ProviderUnavailable(f"payment {reference} is still {intent.status}")
        if intent.succeeded:
            return ChargeResult(ChargeStatus.APPROVED, intent.id)
        if intent.status == "canceled":
            return None
        raise ProviderUnavailable(f"payment {reference} could not be closed ({intent.status})")

    async def refund(
        self, *, idempotency_key: str, charge_id: str, amount_cents: int, reason: str
    ) -> RefundResult:
        refund = await self._call(
            lambda: self._client.v1.refunds.create_async(
                {
                    "payment_intent": charge_id,
                    "amount": amount_cents,
                    "metadata": {
                        "idempotency_key": idempotency_key,
                        "reason": reason[:METADATA_VALUE_MAX],
                    },
                },
                {"idempotency_key": idempotency_key},
            ),
            total_s=self._timeout_s,  # nobody waits on a refund: the whole timeout
        )
        return RefundResult(refund.id, charge_id, refund.amount)

    async def ledger(self) -> Ledger:
        """Every PaymentIntent and refund of the account, page by page (each page's call is
        bounded and its failures mapped like any other)."""
        charges: list[LedgerCharge] = []
        for pi in await self._every(self._client.v1.payment_intents.list_async):
            key = _metadata(pi, "attempt_key")
            if key:  # an intent Gourmet did not make is none of its orders' business
                charges.append(
                    LedgerCharge(pi.id, key, pi.status == "succeeded", pi.amount_received)
                )
        refunds: list[LedgerRefund] = []
        for refund in await self._every(self._client.v1.refunds.list_async):
            if refund.status in ("failed", "canceled") or not refund.payment_intent:
                continue
            intent_id = _id_of(refund.payment_intent)
            key = _metadata(refund, "idempotency_key") or ""
            refunds.append(LedgerRefund(refund.id, key, intent_id, refund.amount))
        return Ledger(charges=tuple(charges), refunds=tuple(refunds))

    async def _every(self, list_page: Callable[..., Awaitable[Any]]) -> list[Any]:
        """All the objects of a list endpoint, newest first, a page (one bounded call) at a
        time, following Stripe's ``starting_after`` cursor."""
        found: list[Any] = []
        params: dict[str, Any] = {"limit": PAGE}
        while True:
            page = await self._call(partial(list_page, params), total_s=self._timeout_s)
            found.extend(page.data)
            if not page.has_more or not page.data:
                return found
            params = {"limit": PAGE, "starting_after": page.data[-1].id}

    # -- errors -------------------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[T]], *, total_s: float | None = None) -> T:
        if total_s is None:
            total_s = self._timeout_s if self._budget is None else self._budget(self._timeout_s)
        try:
            async with asyncio.timeout(total_s):
                return await call()
        except TimeoutError as exc:
            raise ProviderTimeout(f"Stripe did not answer within {total_s:.1f} s") from exc
        except stripe.CardError as exc:
            raise _Declined(exc) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise ProviderUnavailable(f"Stripe could not be reached: {exc.user_message}") from exc
        except stripe.StripeError as exc:
            status = exc.http_status
            if status is None or status >= 500 or status in TRANSIENT_STATUS:
                raise ProviderUnavailable(f"Stripe failed ({status}): {exc.user_message}") from exc
            raise PaymentRequestRejected(
                f"Stripe refused the request: {exc.user_message}", status_code=status
            ) from exc


class _FormClient(stripe.HTTPXClient):
    """Stripe's httpx client, sending its encoded form as ``content=``: passing text as
    ``data=`` is deprecated by httpx (a warning on every call). Stripe's library builds the
    call's arguments in this one method."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Any, post_data: Any
    ) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs["content"] = kwargs.pop("data", None) or None
        return args, kwargs


class _Declined(PaymentError):  # noqa: N818 - a decline is an outcome, caught in charge()
    def __init__(self, error: stripe.CardError) -> None:
        super().__init__(str(error))
        detail: Any = error.error
        intent = getattr(detail, "payment_intent", None) if detail is not None else None
        self.intent_id = _id_of(intent) if intent else ""
        self.reason = (getattr(detail, "decline_code", None) or error.code) if detail else None


def _id_of(value: Any) -> str:
    """An expandable field: an id, or the object it names."""
    return value if isinstance(value, str) else str(value.id)


def _metadata(obj: Any, name: str) -> str | None:
    metadata = getattr(obj, "metadata", None)
    return str(metadata[name]) if metadata and name in metadata else None


def _intent(intent: Any) -> Intent:
    return Intent(intent.id, intent.client_secret or "", intent.status, intent.amount)
