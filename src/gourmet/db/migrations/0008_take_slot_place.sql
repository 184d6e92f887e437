-- Checkout takes its slot place in the same statement that stores the order, committed in the
-- same round trip: the slot's row lock is held for the server-side work and the commit only, not
-- across the application's round trips and event-loop delays (the hot ASAP slot serialised every
-- checkout behind it). The first of ``candidates`` with room is taken; a candidate seen full is
-- skipped without locking it, and a race lost under the lock moves on to the next one. When none
-- has room the statement fails with SQLSTATE GR001, so the transaction (and its idempotency key
-- claim) rolls back and the application answers "slot full" (ordering/checkout/slot_repository.py).
-- depends: 0007_order_version

CREATE FUNCTION take_slot_place(wanted text, candidates timestamptz[], capacity integer)
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
DECLARE
    candidate timestamptz;
    taken timestamptz;
BEGIN
    IF capacity > 0 THEN
        FOR candidate IN
            SELECT c.start
            FROM unnest(candidates) WITH ORDINALITY AS c (start, n)
            LEFT JOIN slot_booking s ON s.fulfilment = wanted AND s.slot_start = c.start
            WHERE coalesce(s.booked, 0) < capacity
            ORDER BY c.n
        LOOP
            INSERT INTO slot_booking AS b (fulfilment, slot_start, booked)
            VALUES (wanted, candidate, 1)
            ON CONFLICT (fulfilment, slot_start) DO UPDATE SET booked = b.booked + 1
                WHERE b.booked < capacity
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
