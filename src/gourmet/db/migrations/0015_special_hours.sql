-- Hours as restaurants have them: weekly periods for pickup, for delivery, or both; and special
-- days (a holiday closed with a message, or other hours on one date) that replace the week's
-- periods on their date.
-- depends: 0014_phone_orders

ALTER TABLE opening_hours
    ADD COLUMN fulfilment text NOT NULL DEFAULT 'both'
        CHECK (fulfilment IN ('both', 'pickup', 'delivery'));
ALTER TABLE opening_hours DROP CONSTRAINT opening_hours_pkey;
ALTER TABLE opening_hours ADD PRIMARY KEY (fulfilment, weekday, opens_minute);

CREATE TABLE special_day (
    day date PRIMARY KEY,
    closed boolean NOT NULL,
    opens_minute smallint CHECK (opens_minute BETWEEN 0 AND 1439),
    closes_minute smallint CHECK (closes_minute BETWEEN 1 AND 1440),
    message text NOT NULL DEFAULT '' CHECK (length(message) <= 200),
    CHECK (closed OR (opens_minute IS NOT NULL AND closes_minute > opens_minute))
);
