-- Refunds by hand: a manager gives back a whole order, chosen lines or an amount, with a reason.
-- A card order's refund goes through the provider (an outbox job named after the refund, which
-- is the provider's idempotency key); a pay-at-pickup order's is cash, handed over at once.
-- The order's refunded_cents counts what was given back, by hand or when it ended unserved.
-- depends: 0019_snooze

CREATE TABLE refund (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    method text NOT NULL CHECK (method IN ('card', 'cash')),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 300),
    -- The chosen lines, [{"position": 1, "quantity": 2}, ...]; null for a whole order or an amount.
    lines jsonb,
    -- The manager's Idempotency-Key: a request sent twice makes one refund.
    request_key text NOT NULL UNIQUE CHECK (length(request_key) BETWEEN 1 AND 255),
    requested_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set once the money is back: at once for cash, when the provider has refunded for a card.
    done_at timestamptz,
    provider_refund_id text,
    CHECK (method = 'cash' OR done_at IS NULL OR provider_refund_id IS NOT NULL)
);
CREATE INDEX refund_order ON refund (order_id, id);
