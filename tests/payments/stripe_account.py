"""The stand-in Stripe's account: PaymentIntents, refunds and events, as Stripe keeps them
(shapes from Stripe's published OpenAPI description, stripe/openapi ``spec3.json``). The HTTP
side is :mod:`tests.payments.stripe_standin`."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import parse_qsl

# The version Stripe's Python library (16.1) sends in its Stripe-Version header.
API_VERSION = "2026-10-28.endive"
CANCELLATION_REASONS = {"abandoned", "duplicate", "fraudulent", "requested_by_customer"}
SUCCEEDS = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
NEEDS_AUTHENTICATION = "pm_card_threeDSecure2Required"
CANCELABLE = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
}


def form(body: str) -> dict[str, Any]:
    """``a[b]=1&c=2`` as ``{"a": {"b": "1"}, "c": "2"}`` (Stripe's form encoding)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=<time>,v1=<HMAC-SHA256 of
    "<time>.<payload>" with the endpoint's signing secret>``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class StripeState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, int, dict[str, Any]]] = {}  # key: (params, status, body)
        self.events: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        self.webhook_secret = ""
        self.requests: list[tuple[str, str]] = []

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_standin{next(self.ids):06d}"

    def emit(self, kind: str, obj: dict[str, Any]) -> None:
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(event)
        if self.webhook_url:
            url = self.webhook_url
            threading.Thread(target=self.deliver, args=(url, event), daemon=True).start()

    def signed(self, event: dict[str, Any]) -> tuple[bytes, str]:
        payload = json.dumps(event)
        return payload.encode(), sign(payload, self.webhook_secret)

    def deliver(self, url: str, event: dict[str, Any]) -> None:
        body, signature = self.signed(event)
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        for _ in range(5):  # Stripe retries a delivery that failed
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    if answer.status < 300:
                        return
            except OSError:
                pass
            time.sleep(0.5)

    def create_intent(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return 400, invalid("Missing required param: amount.", "amount", "parameter_missing")
        if amount < 1:
            return 400, invalid("Amount must be at least 1.", "amount", "amount_too_small")
        if "currency" not in params:
            return 400, invalid(
                "Missing required param: currency.", "currency", "parameter_missing"
            )
        methods = params.get("automatic_payment_methods", {})
        if methods and (
            methods.get("enabled") not in ("true", "false")
            or methods.get("allow_redirects", "always") not in ("always", "never")
        ):
            return 400, invalid(
                "Invalid automatic_payment_methods.",
                "automatic_payment_methods",
                "parameter_invalid_empty",
            )
        pid = self.new_id("pi")
        intent = {
            "id": pid,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params["currency"],
            "automatic_payment_methods": methods or None,
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "client_secret": f"{pid}_secret_{pid[-6:]}",
            "created": int(time.time()),
            "livemode": False,
            "latest_charge": None,
            "last_payment_error": None,
            "next_action": None,
            "payment_method": None,
            "cancellation_reason": None,
        }
        self.intents[pid] = intent
        if params.get("confirm") == "true":
            return self.confirmed(intent, params.get("payment_method", ""))
        return 200, intent

    def confirmed(self, intent: dict[str, Any], method: str) -> tuple[int, dict[str, Any]]:
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            return 400, unexpected_state(intent)
        intent["payment_method"] = method
        if method == DECLINED:
            intent["last_payment_error"] = {"code": "card_declined", "type": "card_error"}
            self.emit("payment_intent.payment_failed", intent)
            return 402, {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                    "payment_intent": intent,
                }
            }
        if method == NEEDS_AUTHENTICATION:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return 200, intent
        if method != SUCCEEDS:
            return 400, invalid(
                f"No such PaymentMethod: '{method}'", "payment_method", "resource_missing"
            )
        return 200, self.succeed(intent)

    def succeed(self, intent: dict[str, Any]) -> dict[str, Any]:
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=self.new_id("ch"),
            next_action=None,
            last_payment_error=None,
        )
        self.emit("payment_intent.succeeded", intent)
        return intent

    def create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, invalid(
                "This PaymentIntent has no successful charge.", "payment_intent", "resource_missing"
            )
        given = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        left = intent["amount_received"] - given
        amount = int(params.get("amount", left))
        if amount < 1 or amount > left:
            return 400, invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount",
                code="charge_already_refunded" if left == 0 else "amount_too_large",
            )
        refund = {
            "id": self.new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "payment_intent": intent["id"],
            "currency": intent["currency"],
            "created": int(time.time()),
            "metadata": params.get("metadata", {}),
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        self.emit("refund.created", refund)
        return 200, refund

    def cancel(self, intent: dict[str, Any], reason: str | None) -> tuple[int, dict[str, Any]]:
        if intent["status"] not in CANCELABLE:
            return 400, unexpected_state(intent)
        if reason is not None and reason not in CANCELLATION_REASONS:
            return 400, invalid(
                f"Invalid cancellation_reason: {reason}",
                "cancellation_reason",
                "parameter_invalid_empty",
            )
        intent.update(status="canceled", cancellation_reason=reason, canceled_at=int(time.time()))
        self.emit("payment_intent.canceled", intent)
        return 200, intent


def invalid(message: str, param: str, code: str) -> dict[str, Any]:
    return {
        "error": {"type": "invalid_request_error", "message": message, "param": param, "code": code}
    }


def unexpected_state(intent: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": f"This PaymentIntent's status is {intent['status']}.",
            "payment_intent": intent,
        }
    }
