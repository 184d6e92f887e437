-- A forgotten password is reset with a link sent by email: a single-use token that expires.
-- Only its SHA-256 is kept (as for sessions): the table cannot be replayed as links if it leaks.
-- depends: 0021_kitchen_tickets

CREATE TABLE password_reset (
    token_hash text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX password_reset_account ON password_reset (account_id, created_at);
