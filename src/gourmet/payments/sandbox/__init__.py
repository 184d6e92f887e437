"""A sandbox card provider: a tiny HTTP service that behaves like a payment provider's test mode.

    python -m gourmet.payments.sandbox --port 8200 --latency-ms 50 --failure-rate 0.0

- ``POST /charges`` with an ``Idempotency-Key`` header and ``{amount_cents, currency, description,
  card_token}``: 201 approved, 402 declined, 400 malformed or no key, 422 key reused with other
  parameters, 500/503 injected failure. A repeated key replays the first answer.
- ``POST /charges/settle`` with an ``Idempotency-Key`` header: closes that charge attempt.
  200 ``{"charge": {...}}`` if a charge was made under the key, 200 ``{"charge": null}`` if none
  was (and from then on a charge under the key is refused with 422 ``attempt_settled``), 409
  while a charge under the key is still in progress; the same latency and injected failures.
- ``GET /charges``: ``{"charges": [...], "attempts": n, "in_flight": n}`` for tests to count.
- ``POST /refunds`` with an ``Idempotency-Key`` header and ``{charge_id, amount_cents, reason}``:
  201 refunded, 404 no such approved charge, 422 more than is left to refund (or key reused);
  the same latency and injected failures as charges. ``GET /refunds``: ``{"refunds": [...]}``.
- ``POST /control``: ``{"latency_ms", "failure_rate", "failure_status", "reset"}`` (all optional)
  changes the behaviour at runtime, so a test can slow the provider down mid-run.
- ``GET /health``.

Test tokens: ``tok_visa`` and ``tok_mastercard`` approve; ``tok_decline``,
``tok_insufficient_funds`` and ``tok_expired`` decline; any other token declines as invalid_card.
"""

from gourmet.payments.sandbox.app import SandboxApp
from gourmet.payments.sandbox.schemas import SandboxConfig

__all__ = ["SandboxApp", "SandboxConfig"]
