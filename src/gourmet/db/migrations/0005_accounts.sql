-- Accounts with a role, their sign-in sessions, and the account an order was placed from.
-- Emails are stored lower-cased so that "Ann@x.org" and "ann@x.org" are one account; only the
-- SHA-256 of a session token is stored, so a leaked table cannot be replayed as cookies.
-- depends: 0004_foreign_key_indexes

CREATE TABLE account (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE
        CHECK (email = lower(email) AND position('@' IN email) > 1 AND length(email) <= 254),
    password_hash text NOT NULL,
    role text NOT NULL DEFAULT 'customer'
        CHECK (role IN ('customer', 'staff', 'manager', 'admin')),
    name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_session (
    token_hash text PRIMARY KEY CHECK (length(token_hash) = 64),
    account_id bigint NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX account_session_account ON account_session (account_id);

ALTER TABLE orders ADD COLUMN account_id bigint REFERENCES account (id) ON DELETE SET NULL;
-- "My orders", newest first; most orders are guests' and stay out of the index.
CREATE INDEX orders_account ON orders (account_id, created_at DESC) WHERE account_id IS NOT NULL;
