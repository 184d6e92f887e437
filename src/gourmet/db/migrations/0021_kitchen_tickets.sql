-- Kitchen tickets: a ``print`` job in the outbox for each ticket a station's printer owes
-- (kitchen/tickets.py), written with the change of status that calls for it.
-- depends: 0020_refunds_by_hand

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('refund', 'email', 'sms', 'settle', 'print'));
