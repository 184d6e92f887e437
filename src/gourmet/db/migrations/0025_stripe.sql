-- Card payments through Stripe: the PaymentIntent of an order's current attempt (its id cannot
-- be derived from the attempt's key, and a settlement must cancel it), and the webhook events
-- handled, each once (Stripe delivers an event at least once, and not always in order).
-- depends: 0024_daily_stock

ALTER TABLE orders ADD COLUMN payment_intent text;
CREATE TABLE stripe_event (
    id text PRIMARY KEY,
    type text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
