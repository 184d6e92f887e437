"""A local stand-in for Stripe: the part of its API Gourmet calls, a Stripe.js for the browser,
and webhook events signed as Stripe signs them.

No network reaches Stripe from here, so the real adapter (:mod:`gourmet.payments.stripe_provider`,
through Stripe's own Python library) talks to this server instead. Shapes follow Stripe's
published OpenAPI description (stripe/openapi, ``spec3.json``): PaymentIntent, Refund, Event,
list objects and the error object; bodies are form-encoded with bracketed keys, as Stripe's
clients send them; ``Idempotency-Key`` replays the first answer and refuses other parameters.

Test payment methods, named as Stripe's test mode names them: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is declined, ``pm_card_threeDSecure2Required`` needs the customer's
authentication first. A threaded stdlib server: it runs beside the app in the test's process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.payments.stripe_account import SUCCEEDS, StripeState, form, unexpected_state

# The keys Gourmet is given for the stand-in: test-mode keys, as Stripe names them.
SECRET_KEY = "sk_test_standin"
PUBLISHABLE_KEY = "pk_test_standin"
WEBHOOK_SECRET = "whsec_standin_signing_secret"
STRIPE_JS = Path(__file__).with_name("stripe_standin.js")


class Handler(BaseHTTPRequestHandler):
    state: StripeState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -----------------------------------------------------------------------------

    def reply(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Access-Control-Allow-Origin", "*")  # Stripe.js calls from the page
        self.end_headers()
        self.wfile.write(raw)

    def error(self, status: int, kind: str, message: str, **extra: Any) -> None:
        self.reply(status, {"error": {"type": kind, "message": message, **extra}})

    def body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def authorized(self) -> bool:
        if (self.headers.get("Authorization") or "").startswith("Bearer sk_"):
            return True
        self.error(401, "invalid_request_error", "Invalid API Key provided")
        return False

    def do_GET(self) -> None:
        path = urlsplit(self.path)
        query = dict(parse_qsl(path.query))
        with self.state.lock:
            self.state.requests.append(("GET", path.path))
            if path.path == "/v3/":
                self.reply(200, STRIPE_JS.read_bytes(), "text/javascript")
            elif path.path == "/_standin/events":
                self.reply(200, self.state.events)
            elif not self.authorized():
                return
            elif path.path == "/v1/payment_intents":
                self.listing(self.state.intents, query, "/v1/payment_intents")
            elif path.path == "/v1/refunds":
                self.listing(self.state.refunds, query, "/v1/refunds")
            elif path.path.startswith("/v1/payment_intents/"):
                intent = self.state.intents.get(path.path.rsplit("/", 1)[1])
                if intent is None:
                    self.missing("payment_intent")
                else:
                    self.reply(200, intent)
            else:
                self.error(404, "invalid_request_error", f"Unrecognized request URL ({path.path})")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        raw = self.body()
        with self.state.lock:
            self.state.requests.append(("POST", path))
            params = form(raw)
            parts = path.strip("/").split("/")
            if parts[:2] == ["v1", "payment_intents"] and len(parts) == 4:
                # Stripe.js confirms with the publishable key and the intent's client secret.
                intent = self.state.intents.get(parts[2])
                if intent is None:
                    self.missing("payment_intent")
                elif params.get("client_secret") != intent["client_secret"] and not (
                    (self.headers.get("Authorization") or "").startswith("Bearer sk_")
                ):
                    self.error(400, "invalid_request_error", "No such client_secret")
                elif parts[3] == "confirm":
                    self.confirm(intent, params.get("payment_method", ""))
                elif parts[3] == "authenticate":  # the customer passes 3-D Secure
                    self.authenticate(intent)
                elif parts[3] == "cancel":
                    self.cancel(intent, params)
                else:
                    self.error(404, "invalid_request_error", "Unrecognized request URL")
                return
            if not self.authorized():
                return
            key = self.headers.get("Idempotency-Key")
            if key and key in self.state.keys:
                first_params, status, body = self.state.keys[key]
                if first_params != raw:
                    self.error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters"
                        " they were first used with.",
                    )
                else:
                    self.reply(status, body)
                return
            if path == "/v1/payment_intents":
                status, body = self.state.create_intent(params)
            elif path == "/v1/refunds":
                status, body = self.state.create_refund(params)
            else:
                self.error(404, "invalid_request_error", f"Unrecognized request URL ({path})")
                return
            if key:
                self.state.keys[key] = (raw, status, body)
            self.reply(status, body)

    # -- the API ------------------------------------------------------------------------------

    def missing(self, kind: str) -> None:
        self.error(404, "invalid_request_error", f"No such {kind}", code="resource_missing")

    def listing(self, objects: dict[str, dict[str, Any]], query: dict[str, str], url: str) -> None:
        newest = sorted(objects.values(), key=lambda o: o["id"], reverse=True)
        after = query.get("starting_after")
        if after:
            ids = [o["id"] for o in newest]
            newest = newest[ids.index(after) + 1 :] if after in ids else []
        limit = int(query.get("limit", 10))
        page = newest[:limit]
        self.reply(
            200, {"object": "list", "data": page, "has_more": len(newest) > limit, "url": url}
        )

    def confirm(self, intent: dict[str, Any], method: str) -> None:
        self.reply(*self.state.confirmed(intent, method))

    def authenticate(self, intent: dict[str, Any]) -> None:
        if intent["status"] != "requires_action":
            self.reply(400, unexpected_state(intent))
        else:
            self.reply(200, self.state.succeed(intent))

    def cancel(self, intent: dict[str, Any], params: dict[str, Any]) -> None:
        self.reply(*self.state.cancel(intent, params.get("cancellation_reason")))


class StripeStandIn:
    """The stand-in served on 127.0.0.1 from a thread; ``url`` is its API and Stripe.js base."""

    def __init__(self, webhook_secret: str) -> None:
        self.state = StripeState()
        self.state.webhook_secret = webhook_secret
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StripeStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def send_events_to(self, url: str) -> None:
        """Deliver every event from now on to ``url``, as Stripe does to a webhook endpoint."""
        with self.state.lock:
            self.state.webhook_url = url

    def deliveries(self, kind: str | None = None) -> Iterator[tuple[bytes, str]]:
        """Each event (of ``kind``) as Stripe would deliver it: its body and signature."""
        with self.state.lock:
            events = [e for e in self.state.events if kind is None or e["type"] == kind]
        for event in events:
            yield self.state.signed(event)

    def pay(self, intent_id: str, method: str = SUCCEEDS) -> dict[str, Any]:
        """What the customer's browser does with Stripe.js: confirm the intent with a card."""
        with self.state.lock:
            return self.state.confirmed(self.state.intents[intent_id], method)[1]
