-- Counters that every worker and replica share: sign-in failures, sign-ups and checkouts per
-- client. A limit kept in one process's memory allows workers x replicas times as much.
-- Fixed windows: one row per bucket and window, counted with an upsert.
-- UNLOGGED: no WAL for each count; a crash of the database forgets the counts (a limit
-- starts over), which costs a guesser a few attempts and customers nothing.
-- depends: 0009_incident_dates

CREATE UNLOGGED TABLE rate_counter (
    bucket text NOT NULL CHECK (length(bucket) <= 600),
    window_start timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    hits integer NOT NULL CHECK (hits >= 0),
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_counter_expiry ON rate_counter (expires_at);
