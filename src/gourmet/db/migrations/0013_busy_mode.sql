-- Busy mode and a moving estimate. The kitchen adds minutes of lead time with one tap, for a
-- while (it resets itself: read as over once busy_until has passed); orders already placed move
-- their estimated ready time with it, and customers see the new time.
-- depends: 0012_tips

CREATE TABLE busy_mode (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    extra_minutes integer NOT NULL CHECK (extra_minutes BETWEEN 0 AND 120),
    busy_until timestamptz NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
-- The ready time the customer is told; none: the start of the order's slot.
ALTER TABLE orders ADD COLUMN estimated_ready_at timestamptz;
