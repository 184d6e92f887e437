-- Money is always right: a paid order that is rejected or cancelled is refunded, an order left
-- unpaid expires. Work that calls another service (a refund, later an email) goes through an
-- outbox: written in the same transaction as the change that needs it, done afterwards by a
-- worker that holds no connection while it waits, retried until done, and named by a key that
-- makes it once per event (the provider's idempotency key carries the same name).
-- depends: 0010_rate_counter

ALTER TABLE orders DROP CONSTRAINT orders_payment_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_payment_status_check CHECK (payment_status IN (
    'not_required', 'pending', 'paid', 'declined', 'failed', 'refund_pending', 'refunded'));
ALTER TABLE orders
    ADD COLUMN refunded_cents integer NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
    ADD COLUMN refund_reference text,
    ADD CONSTRAINT orders_refund_within_total CHECK (refunded_cents <= total_cents),
    ADD CONSTRAINT orders_refunded_has_reference
        CHECK (payment_status <> 'refunded' OR refund_reference IS NOT NULL);

CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('refund', 'email', 'sms')),
    -- One job per event: a second insert of the same event does nothing.
    event_key text NOT NULL UNIQUE CHECK (length(event_key) <= 200),
    order_id bigint REFERENCES orders (id) ON DELETE CASCADE,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When it may next be tried: a worker that takes it moves this past its lease, so a worker
    -- that dies mid-way hands it on when the lease runs out.
    due_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    done_at timestamptz,
    last_error text
);
CREATE INDEX outbox_due ON outbox (due_at) WHERE state = 'pending';
CREATE INDEX outbox_order ON outbox (order_id);
