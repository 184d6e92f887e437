-- The ordering core: menu, opening hours, slots, delivery zones, orders and their history.
-- Money is integer cents; every timestamp is timestamptz (stored in UTC).

CREATE TABLE restaurant (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    name text NOT NULL,
    tax_rate_bp integer NOT NULL DEFAULT 0 CHECK (tax_rate_bp BETWEEN 0 AND 5000),
    slot_minutes integer NOT NULL DEFAULT 15 CHECK (slot_minutes BETWEEN 5 AND 240),
    lead_minutes integer NOT NULL DEFAULT 20 CHECK (lead_minutes BETWEEN 0 AND 720),
    ordering_paused boolean NOT NULL DEFAULT false,
    pause_message text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE category (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80),
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE item (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id bigint NOT NULL REFERENCES category (id) ON DELETE RESTRICT,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '',
    price_cents integer NOT NULL CHECK (price_cents BETWEEN 0 AND 1000000),
    allergens text[] NOT NULL DEFAULT '{}',
    dietary text[] NOT NULL DEFAULT '{}',
    available boolean NOT NULL DEFAULT true,
    stock integer CHECK (stock >= 0),
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_category_position ON item (category_id, position);

CREATE TABLE modifier_group (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES item (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    min_choices integer NOT NULL DEFAULT 0 CHECK (min_choices >= 0),
    max_choices integer NOT NULL DEFAULT 1 CHECK (max_choices >= 1 AND max_choices >= min_choices),
    position integer NOT NULL DEFAULT 0
);
CREATE INDEX modifier_group_item ON modifier_group (item_id, position);

CREATE TABLE modifier_option (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id bigint NOT NULL REFERENCES modifier_group (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    price_delta_cents integer NOT NULL DEFAULT 0 CHECK (price_delta_cents BETWEEN -100000 AND 100000),
    available boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0
);
CREATE INDEX modifier_option_group ON modifier_option (group_id, position);

-- Opening periods in the restaurant's local time, as minutes after midnight (1440 = midnight).
CREATE TABLE opening_hours (
    weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    opens_minute smallint NOT NULL CHECK (opens_minute BETWEEN 0 AND 1439),
    closes_minute smallint NOT NULL CHECK (closes_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (weekday, opens_minute),
    CHECK (closes_minute > opens_minute)
);

CREATE TABLE slot_capacity (
    fulfilment text PRIMARY KEY CHECK (fulfilment IN ('pickup', 'delivery')),
    max_orders integer NOT NULL CHECK (max_orders >= 0)
);

-- One row per slot that has bookings; ``booked`` only grows through reserve_slot's guarded upsert.
CREATE TABLE slot_booking (
    fulfilment text NOT NULL REFERENCES slot_capacity (fulfilment),
    slot_start timestamptz NOT NULL,
    booked integer NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (fulfilment, slot_start)
);

CREATE TABLE delivery_zone (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    postcode_prefixes text[] NOT NULL CHECK (cardinality(postcode_prefixes) > 0),
    fee_cents integer NOT NULL CHECK (fee_cents BETWEEN 0 AND 100000),
    min_order_cents integer NOT NULL DEFAULT 0 CHECK (min_order_cents BETWEEN 0 AND 1000000)
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token text NOT NULL UNIQUE CHECK (length(token) >= 20),
    status text NOT NULL DEFAULT 'received' CHECK (status IN (
        'received', 'accepted', 'preparing', 'ready', 'out_for_delivery',
        'completed', 'delivered', 'rejected', 'cancelled')),
    fulfilment text NOT NULL CHECK (fulfilment IN ('pickup', 'delivery')),
    asap boolean NOT NULL,
    slot_start timestamptz NOT NULL,
    customer_name text NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 100),
    phone text NOT NULL CHECK (length(phone) BETWEEN 5 AND 32),
    email text,
    address_line text,
    city text,
    postcode text,
    zone_id bigint REFERENCES delivery_zone (id) ON DELETE RESTRICT,
    notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 500),
    payment_method text NOT NULL CHECK (payment_method IN ('pay_at_pickup', 'card')),
    subtotal_cents integer NOT NULL CHECK (subtotal_cents >= 0),
    delivery_fee_cents integer NOT NULL CHECK (delivery_fee_cents >= 0),
    tax_cents integer NOT NULL CHECK (tax_cents >= 0),
    total_cents integer NOT NULL CHECK (total_cents = subtotal_cents + delivery_fee_cents + tax_cents),
    rejection_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((fulfilment = 'delivery') = (postcode IS NOT NULL AND address_line IS NOT NULL)),
    CHECK (status <> 'rejected' OR rejection_reason IS NOT NULL)
);
CREATE INDEX orders_open_by_age ON orders (created_at)
    WHERE status IN ('received', 'accepted', 'preparing', 'ready', 'out_for_delivery');
CREATE INDEX orders_slot ON orders (slot_start);

CREATE TABLE order_line (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position integer NOT NULL,
    item_id bigint NOT NULL REFERENCES item (id) ON DELETE RESTRICT,
    name text NOT NULL,
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
    unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
    line_total_cents integer NOT NULL CHECK (line_total_cents = unit_price_cents * quantity),
    notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 200),
    UNIQUE (order_id, position)
);

CREATE TABLE order_line_option (
    line_id bigint NOT NULL REFERENCES order_line (id) ON DELETE CASCADE,
    option_id bigint NOT NULL REFERENCES modifier_option (id) ON DELETE RESTRICT,
    group_name text NOT NULL,
    name text NOT NULL,
    price_delta_cents integer NOT NULL,
    PRIMARY KEY (line_id, option_id)
);

CREATE TABLE order_status_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status text,
    to_status text NOT NULL,
    reason text,
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

-- Idempotent checkout: the key is claimed first in the checkout transaction, so a concurrent
-- request with the same key waits on the unique index and then finds the committed order.
CREATE TABLE checkout_request (
    idempotency_key text PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    fingerprint text NOT NULL,
    order_id bigint REFERENCES orders (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
