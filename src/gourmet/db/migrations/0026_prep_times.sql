-- Prep time per item and ASAP quotes from the kitchen's backlog. An item takes prep_minutes to
-- make (the restaurant's lead time when it has none); an order's make_minutes is its longest
-- item's, stored with it. With orders_at_once set (the orders the kitchen makes side by side),
-- the orders still to make ahead of a new one delay it by their make-minutes over that number;
-- without it (NULL), quotes are the lead time, or an item's longer prep time.
-- depends: 0025_stripe

ALTER TABLE item ADD COLUMN prep_minutes integer CHECK (prep_minutes BETWEEN 1 AND 240);
ALTER TABLE restaurant
    ADD COLUMN orders_at_once integer CHECK (orders_at_once BETWEEN 1 AND 100);
ALTER TABLE orders ADD COLUMN make_minutes integer NOT NULL DEFAULT 0 CHECK (make_minutes >= 0);
