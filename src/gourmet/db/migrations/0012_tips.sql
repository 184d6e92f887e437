-- Tips at checkout: a percentage of the subtotal or an amount, kept apart from the prices (not
-- taxed) and in the total.
-- depends: 0011_refunds_and_outbox

ALTER TABLE orders ADD COLUMN tip_cents integer NOT NULL DEFAULT 0 CHECK (tip_cents >= 0);
-- The total's check was named by PostgreSQL (it spans columns): found by what it checks.
DO $$
DECLARE
    old_check text;
BEGIN
    SELECT conname INTO STRICT old_check FROM pg_constraint
    WHERE conrelid = 'orders'::regclass AND contype = 'c'
        AND pg_get_constraintdef(oid) LIKE '%total_cents = %';
    EXECUTE format('ALTER TABLE orders DROP CONSTRAINT %I', old_check);
END
$$;
ALTER TABLE orders ADD CONSTRAINT orders_total_is_the_sum
    CHECK (total_cents = subtotal_cents + delivery_fee_cents + tax_cents + tip_cents);
