"""The sandbox provider's ASGI app: charges, idempotency, injected latency and failures.

Plain ASGI rather than Litestar: four routes need no framework, and the sandbox adds next to no
latency of its own, so a test gets the latency it asked for. Status codes for idempotency follow
the IETF draft "The Idempotency-Key HTTP Header Field" (400 missing, 422 reused).
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from typing import Any

import msgspec

from gourmet.asgi import Receive, Scope, Send
from gourmet.payments.sandbox.schemas import (
    APPROVES,
    DECLINES,
    Charge,
    ChargeIn,
    ControlIn,
    Refund,
    RefundIn,
    SandboxConfig,
)

MAX_BODY_BYTES = 64 * 1024
ENV_PREFIX = "PAYMENT_SANDBOX_"  # how the CLI hands its options to granian's worker process

Reply = tuple[int, Any, dict[str, str]]


class SandboxApp:
    """The ASGI app. State lives in memory, in one process: run it with a single worker."""

    def __init__(self, config: SandboxConfig | None = None, *, seed: int | None = None) -> None:
        self.config = config or SandboxConfig()
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, Refund] = {}  # by idempotency key
        self.settled: set[str] = set()  # attempts closed with no charge: refused from then on
        self.pending: dict[str, int] = {}  # charge requests in progress, by key
        self.attempts = 0  # charge requests received, failed ones included
        self.in_flight = 0
        # Bumped by a reset: a request still sleeping from before it must not store a charge
        # into the next test's clean slate.
        self.generation = 0
        self._rng = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup: nothing to open
            await send({"type": "lifespan.startup.complete"})
            await receive()  # shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        status, payload, headers = await self._route(scope, body)
        raw_headers = [(b"content-type", b"application/json")]
        raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": msgspec.json.encode(payload)})

    async def _route(self, scope: Scope, body: bytes | None) -> Reply:
        route = (scope["method"], scope["path"])
        if body is None:
            return 413, {"error": "body_too_large"}, {}
        if route == ("POST", "/charges"):
            # ASGI servers lower-case header names.
            keys = [v.decode() for k, v in scope["headers"] if k == b"idempotency-key"]
            return await self._charge(keys[0] if keys else "", body)
        if route == ("POST", "/charges/settle"):
            keys = [v.decode() for k, v in scope["headers"] if k == b"idempotency-key"]
            return await self._settle(keys[0] if keys else "")
        if route == ("GET", "/charges"):
            charges = list(self.charges.values())
            stats = {"attempts": self.attempts, "in_flight": self.in_flight}
            return 200, {"charges": charges, **stats}, {}
        if route == ("POST", "/refunds"):
            keys = [v.decode() for k, v in scope["headers"] if k == b"idempotency-key"]
            return await self._refund(keys[0] if keys else "", body)
        if route == ("GET", "/refunds"):
            return 200, {"refunds": list(self.refunds.values())}, {}
        if route == ("POST", "/control"):
            return self._control(body)
        if route == ("GET", "/health"):
            return 200, {"status": "ok"}, {}
        return 404, {"error": "not_found"}, {}

    def _control(self, body: bytes) -> Reply:
        try:
            change = msgspec.json.decode(body or b"{}", type=ControlIn)
        except msgspec.DecodeError as exc:
            return 400, {"error": "invalid_request", "detail": str(exc)}, {}
        fields = ("latency_ms", "failure_rate", "failure_status")
        updates = {
            name: getattr(change, name) for name in fields if getattr(change, name) is not None
        }
        self.config = msgspec.structs.replace(self.config, **updates)
        if change.reset:
            self.charges.clear()
            self.refunds.clear()
            self.settled.clear()
            self.attempts = 0
            self.generation += 1
        return 200, self.config, {}

    async def _charge(self, key: str, body: bytes) -> Reply:
        self.attempts += 1
        self.in_flight += 1
        self.pending[key] = self.pending.get(key, 0) + 1
        try:
            return await self._charge_once(key, body)
        finally:
            self.in_flight -= 1
            self.pending[key] -= 1
            if not self.pending[key]:
                del self.pending[key]

    async def _settle(self, key: str) -> Reply:
        busy = key in self.pending  # in progress when the request arrived
        if (failure := await self._injected()) is not None:
            return failure
        if not key:
            return 400, {"error": "idempotency_key_missing"}, {}
        # No await from here on: settling and a charge under the same key cannot interleave.
        if busy or key in self.pending:
            return 409, {"error": "attempt_in_progress"}, {}
        charge = self.charges.get(key)
        if charge is None:
            self.settled.add(key)
        return 200, {"charge": charge}, {}

    async def _injected(self) -> Reply | None:
        """The configured latency, then an injected failure if one is drawn."""
        generation = self.generation
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if generation != self.generation:
            return 503, {"error": "sandbox_reset"}, {}
        if self._rng.random() < self.config.failure_rate:
            return self.config.failure_status, {"error": "injected_failure"}, {}
        return None

    async def _refund(self, key: str, body: bytes) -> Reply:
        if (failure := await self._injected()) is not None:
            return failure
        if not key:
            return 400, {"error": "idempotency_key_missing"}, {}
        try:
            request = msgspec.json.decode(body, type=RefundIn)
        except msgspec.DecodeError as exc:
            return 400, {"error": "invalid_request", "detail": str(exc)}, {}
        # No await from here on: the look-up and the insert are one step on the event loop.
        existing = self.refunds.get(key)
        if existing is not None:
            if existing.request != request:
                return 422, {"error": "idempotency_key_reused"}, {}
            return 201, existing, {"idempotent-replayed": "true"}
        charge = next((c for c in self.charges.values() if c.id == request.charge_id), None)
        if charge is None or charge.status != "approved":
            return 404, {"error": "no_such_charge"}, {}
        refunded = sum(r.amount_cents for r in self.refunds.values() if r.charge_id == charge.id)
        if refunded + request.amount_cents > charge.request.amount_cents:
            return 422, {"error": "amount_exceeds_charge"}, {}
        refund = Refund(
            id=f"re_{uuid.uuid4().hex[:24]}",
            idempotency_key=key,
            charge_id=charge.id,
            amount_cents=request.amount_cents,
            request=request,
        )
        self.refunds[key] = refund
        return 201, refund, {"idempotent-replayed": "false"}

    async def _charge_once(self, key: str, body: bytes) -> Reply:
        if (failure := await self._injected()) is not None:
            return failure
        if not key:
            return 400, {"error": "idempotency_key_missing"}, {}
        try:
            request = msgspec.json.decode(body, type=ChargeIn)
        except msgspec.DecodeError as exc:
            return 400, {"error": "invalid_request", "detail": str(exc)}, {}
        # No await from here on: on a single event loop the look-up and the insert below are one
        # atomic step, so concurrent requests with the same key can never create two charges.
        existing = self.charges.get(key)
        if existing is not None:
            if existing.request != request:
                return 422, {"error": "idempotency_key_reused"}, {}
            return _charge_reply(existing, replayed=True)
        if key in self.settled:
            return 422, {"error": "attempt_settled"}, {}
        token = request.card_token
        reason = None if token in APPROVES else DECLINES.get(token, "invalid_card")
        charge = Charge(
            id=f"ch_{uuid.uuid4().hex[:24]}",
            idempotency_key=key,
            status="declined" if reason else "approved",
            reason=reason,
            request=request,
        )
        self.charges[key] = charge
        return _charge_reply(charge, replayed=False)


def _charge_reply(charge: Charge, *, replayed: bool) -> Reply:
    status = 201 if charge.status == "approved" else 402
    return status, charge, {"idempotent-replayed": "true" if replayed else "false"}


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None once it exceeds MAX_BODY_BYTES (never buffer without a bound)."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def app_from_env() -> SandboxApp:
    """The app for granian's worker, configured by the ``PAYMENT_SANDBOX_*`` variables."""
    env = {
        name: os.environ.get(ENV_PREFIX + name.upper()) for name in ("latency_ms", "failure_rate")
    }
    values = {name: value for name, value in env.items() if value is not None}
    # convert (unlike the constructor) checks the constraints; strict=False parses the strings.
    config = msgspec.convert(values, SandboxConfig, strict=False)
    seed = os.environ.get(f"{ENV_PREFIX}SEED")
    return SandboxApp(config, seed=int(seed) if seed else None)
