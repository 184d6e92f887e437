-- Phone orders: staff enter an order for a caller. It is the same order (same pricing, slots and
-- capacity rules), marked by its channel and the staff member who entered it; a manager's
-- override of a full slot or of the pause is recorded in its first history entry.
-- depends: 0013_busy_mode

ALTER TABLE orders
    ADD COLUMN channel text NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'phone')),
    ADD COLUMN entered_by text,
    ADD CONSTRAINT orders_phone_has_staff CHECK (channel = 'online' OR entered_by IS NOT NULL);
