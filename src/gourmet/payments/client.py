"""``HttpPaymentProvider``: the :class:`PaymentProvider` interface over a provider's HTTP API.

The wire format is the sandbox's (``POST /charges`` with an ``Idempotency-Key`` header), which
follows the shape of the big card providers' APIs. Every way a call can fail maps to one of the
interface's outcomes, so nothing httpx-specific leaks into checkout:

- transport errors, timeouts, 5xx, 408/409/425/429: :class:`ProviderUnavailable` (transient);
- 2xx and 402: a :class:`ChargeResult` (402 is how providers say "declined");
- any other 4xx: :class:`PaymentRequestRejected` (final: our request is wrong).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import httpx
import msgspec

from gourmet.payments.provider import (
    ChargeResult,
    ChargeStatus,
    Ledger,
    LedgerCharge,
    LedgerRefund,
    PaymentRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RefundResult,
)

# 409 is "a request with this key is still in progress" in the IETF Idempotency-Key draft: the
# first attempt may yet succeed, so it is worth retrying, never worth reporting as a bug.
TRANSIENT_4XX = frozenset({408, 409, 425, 429})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PaymentTimeouts:
    """How long one charge may take. Values come from Settings in the application."""

    connect_s: float = 1.0  # a provider that cannot accept a connection in a second is down
    read_s: float = 5.0  # between two reads of the answer (card networks can take seconds)
    write_s: float = 1.0
    pool_s: float = 1.0  # waiting for a free connection in the caller's httpx pool
    # httpx's timeouts bound each network operation, not the call: a provider trickling bytes
    # could hold a customer forever. total_s bounds the whole call, pool wait included.
    total_s: float = 8.0

    def __post_init__(self) -> None:
        if min(self.connect_s, self.read_s, self.write_s, self.pool_s, self.total_s) <= 0:
            raise ValueError("payment timeouts must be positive")

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s
        )


class _ChargeOut(msgspec.Struct):
    id: str
    status: Literal["approved", "declined"]
    reason: str | None = None


class _SettledOut(msgspec.Struct):
    charge: _ChargeOut | None


class _RefundOut(msgspec.Struct):
    id: str
    charge_id: str
    amount_cents: int


class _ChargeRequest(msgspec.Struct):
    amount_cents: int


class _LedgerChargeOut(msgspec.Struct):
    id: str
    idempotency_key: str
    status: Literal["approved", "declined"]
    request: _ChargeRequest


class _LedgerRefundOut(msgspec.Struct):
    id: str
    idempotency_key: str
    charge_id: str
    amount_cents: int


class _Charges(msgspec.Struct):
    charges: list[_LedgerChargeOut]


class _Refunds(msgspec.Struct):
    refunds: list[_LedgerRefundOut]


class HttpPaymentProvider:
    """Charges cards through ``{base_url}/charges`` with a client the caller owns.

    The caller creates the ``httpx.AsyncClient`` in the application's lifespan and closes it
    there, so connections are pooled across requests and bounded by the client's ``limits``.
    ``budget``, if given, cuts the total timeout to the time the current request has left (for
    instance :func:`gourmet.resilience.deadline.current_timeout`): a customer who has given up
    gains nothing from a charge that is still waiting.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        timeouts: PaymentTimeouts | None = None,
        budget: Callable[[float], float] | None = None,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._url = self._base + "/charges"
        self.timeouts = timeouts or PaymentTimeouts()
        self._budget = budget

    async def charge(
        self,
        *,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        description: str,
        card_token: str,
    ) -> ChargeResult:
        payload = {
            "amount_cents": amount_cents,
            "currency": currency,
            "description": description,
            "card_token": card_token,
        }
        response = await self._post(self._url, payload, idempotency_key, self._total_s())
        return _charge_result(response)

    async def settle_attempt(
        self, *, idempotency_key: str, reference: str | None = None
    ) -> ChargeResult | None:
        del reference  # the sandbox knows an attempt by its key
        response = await self._post(self._url + "/settle", {}, idempotency_key, self._total_s())
        charge = _answer(response, _SettledOut, what="settlement").charge
        if charge is None:
            return None
        return ChargeResult(ChargeStatus(charge.status), charge.id, charge.reason)

    async def refund(
        self, *, idempotency_key: str, charge_id: str, amount_cents: int, reason: str
    ) -> RefundResult:
        payload = {"charge_id": charge_id, "amount_cents": amount_cents, "reason": reason}
        response = await self._post(
            self._base + "/refunds", payload, idempotency_key, self.timeouts.total_s
        )
        body = _answer(response, _RefundOut, what="refund")
        return RefundResult(body.id, body.charge_id, body.amount_cents)

    async def ledger(self) -> Ledger:
        """Every charge and refund the provider holds (the sandbox lists them all; a real
        provider's list endpoints page through a time range)."""
        try:
            charges = await self._client.get(self._url, timeout=self.timeouts.as_httpx())
            refunds = await self._client.get(
                self._base + "/refunds", timeout=self.timeouts.as_httpx()
            )
            charges.raise_for_status()
            refunds.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"could not read the provider's ledger: {exc!r}") from exc
        listed = msgspec.json.decode(charges.content, type=_Charges).charges
        given = msgspec.json.decode(refunds.content, type=_Refunds).refunds
        return Ledger(
            charges=tuple(
                LedgerCharge(
                    c.id, c.idempotency_key, c.status == "approved", c.request.amount_cents
                )
                for c in listed
            ),
            refunds=tuple(
                LedgerRefund(r.id, r.idempotency_key, r.charge_id, r.amount_cents) for r in given
            ),
        )

    def _total_s(self) -> float:
        """A customer's call may take what their request has left (a refund has no customer
        waiting on it)."""
        total_s = self.timeouts.total_s
        return total_s if self._budget is None else self._budget(total_s)

    async def _post(
        self, url: str, payload: dict[str, object], idempotency_key: str, total_s: float
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(total_s):
                return await self._client.post(
                    url,
                    json=payload,
                    headers={"Idempotency-Key": idempotency_key},
                    timeout=self.timeouts.as_httpx(),
                )
        # httpx's TimeoutException is a TransportError: catch it first to report it as a timeout.
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ProviderTimeout(f"no answer from the payment provider in {total_s:g} s") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"payment provider unreachable: {exc!r}") from exc


def _charge_result(response: httpx.Response) -> ChargeResult:
    # 402 is how providers say "declined": an answer, not a refusal of the request.
    body = _answer(response, _ChargeOut, what="charge", also_ok=frozenset({402}))
    return ChargeResult(status=ChargeStatus(body.status), charge_id=body.id, reason=body.reason)


def _answer(
    response: httpx.Response, kind: type[T], *, what: str, also_ok: frozenset[int] = frozenset()
) -> T:
    """The provider's answer as ``kind``; raise what the caller must act on otherwise."""
    status = response.status_code
    if status >= 500 or status in TRANSIENT_4XX:
        raise ProviderUnavailable(
            f"payment provider answered {status}", retry_after_s=_retry_after_s(response)
        )
    if not (200 <= status < 300 or status in also_ok):
        raise PaymentRequestRejected(
            f"payment provider refused the {what} ({status}): {response.text[:200]}",
            status_code=status,
        )
    try:
        return msgspec.json.decode(response.content, type=kind)
    except msgspec.DecodeError as exc:
        # The charge or refund may exist even though its answer is unreadable: a retry with the
        # same key replays it, so this is transient rather than final.
        raise ProviderUnavailable(f"unreadable answer from the payment provider: {exc}") from exc


def _retry_after_s(response: httpx.Response) -> float | None:
    """Retry-After in seconds; the HTTP-date form is rare from APIs and is ignored."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
