-- Indexes on foreign keys that deletes and "used in a past order?" checks look up: without them
-- each check scans the whole order history.
-- depends: 0003_status_incidents

CREATE INDEX IF NOT EXISTS order_line_option_option ON order_line_option (option_id);
CREATE INDEX IF NOT EXISTS order_line_item ON order_line (item_id);
CREATE INDEX IF NOT EXISTS orders_zone ON orders (zone_id) WHERE zone_id IS NOT NULL;
