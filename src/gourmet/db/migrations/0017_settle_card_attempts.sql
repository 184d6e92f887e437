-- A card attempt whose outcome is unknown is settled when its order stops waiting for it (the
-- customer chose to pay at pickup, or the unpaid order expired): a ``settle`` job in the outbox
-- closes the attempt at the provider and gives back a charge the order does not use.
-- depends: 0016_capacity_by_items

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('refund', 'email', 'sms', 'settle'));
