-- Snooze: an item 86'd until a moment (the end of service, tomorrow, a date) comes back by
-- itself; the management job switches it on once back_at has passed.
-- depends: 0018_daily_sales

ALTER TABLE item
    ADD COLUMN back_at timestamptz,
    ADD CONSTRAINT item_back_only_when_off CHECK (back_at IS NULL OR NOT available);
CREATE INDEX item_back_at ON item (back_at) WHERE back_at IS NOT NULL;
