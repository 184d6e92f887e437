-- Every change of an order bumps its version, and the order_changed notification carries it
-- ("<token>:<version>"), so that a process holding the order's view in memory can tell a change
-- it has not seen from one it made or already read (ordering/tracking/book.py).
-- depends: 0006_idempotency_key_retention

ALTER TABLE orders ADD COLUMN version integer NOT NULL DEFAULT 1;
