-- An optional daily stock reset: an item with daily_stock starts each of the restaurant's days
-- with that many portions. A local day is claimed in stock_reset (one row a day), so that of
-- every process's chore only one resets it, once.
-- depends: 0023_restaurant_details

ALTER TABLE item ADD COLUMN daily_stock integer CHECK (daily_stock BETWEEN 0 AND 100000);
CREATE TABLE stock_reset (
    day date PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now()
);
