-- Slot capacity counted in orders (as before) or in items: ten pizzas are more work than one
-- coffee. An order takes ``slot_weight`` places of its slot (1, or its number of items) and gives
-- the same number back when it is rejected or cancelled.
-- depends: 0015_special_hours

ALTER TABLE restaurant
    ADD COLUMN capacity_unit text NOT NULL DEFAULT 'orders'
        CHECK (capacity_unit IN ('orders', 'items'));
ALTER TABLE orders ADD COLUMN slot_weight integer NOT NULL DEFAULT 1 CHECK (slot_weight >= 1);

-- take_slot_place of migration 0008, taking ``weight`` places; it replaces the old one.
DROP FUNCTION take_slot_place(text, timestamptz[], integer);
CREATE FUNCTION take_slot_place(
    wanted text, candidates timestamptz[], capacity integer, weight integer
)
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
DECLARE
    candidate timestamptz;
    taken timestamptz;
BEGIN
    IF capacity > 0 AND weight <= capacity THEN
        FOR candidate IN
            SELECT c.start
            FROM unnest(candidates) WITH ORDINALITY AS c (start, n)
            LEFT JOIN slot_booking s ON s.fulfilment = wanted AND s.slot_start = c.start
            WHERE coalesce(s.booked, 0) + weight <= capacity
            ORDER BY c.n
        LOOP
            INSERT INTO slot_booking AS b (fulfilment, slot_start, booked)
            VALUES (wanted, candidate, weight)
            ON CONFLICT (fulfilment, slot_start) DO UPDATE SET booked = b.booked + weight
                WHERE b.booked + weight <= capacity
            RETURNING b.slot_start INTO taken;
            IF taken IS NOT NULL THEN
                RETURN taken;
            END IF;
        END LOOP;
    END IF;
    RAISE EXCEPTION 'no place left in the % slots offered', cardinality(candidates)
        USING ERRCODE = 'GR001';
END
$$;
