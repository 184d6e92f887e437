-- Card payments: an order paid by card waits in 'awaiting_payment' (invisible to the kitchen)
-- until the provider approves; the attempt number makes each attempt's idempotency key.
-- depends: 0001_initial

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'awaiting_payment', 'received', 'accepted', 'preparing', 'ready', 'out_for_delivery',
    'completed', 'delivered', 'rejected', 'cancelled'));
ALTER TABLE orders
    ADD COLUMN payment_status text NOT NULL DEFAULT 'not_required'
        CHECK (payment_status IN ('not_required', 'pending', 'paid', 'declined', 'failed')),
    ADD COLUMN payment_reference text,
    ADD COLUMN payment_attempt integer NOT NULL DEFAULT 1 CHECK (payment_attempt >= 1),
    ADD CONSTRAINT orders_paid_has_reference
        CHECK (payment_status <> 'paid' OR payment_reference IS NOT NULL);
CREATE INDEX orders_awaiting_payment ON orders (created_at) WHERE status = 'awaiting_payment';
