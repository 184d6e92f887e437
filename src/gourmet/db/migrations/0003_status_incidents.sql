-- The public status page: incidents that operators post and update, with their history.
-- depends: 0002_card_payments

CREATE TABLE incident (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    state text NOT NULL CHECK (state IN ('investigating', 'identified', 'monitoring', 'resolved')),
    message text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    components text[] NOT NULL DEFAULT '{ordering}'
        CHECK (components <@ ARRAY['ordering', 'tracking', 'payments']::text[]),
    expected_resolution_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX incident_open ON incident (created_at) WHERE state <> 'resolved';
CREATE INDEX incident_recent ON incident (updated_at);

CREATE TABLE incident_update (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
    state text NOT NULL,
    message text NOT NULL,
    expected_resolution_at timestamptz,
    author text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_update_incident ON incident_update (incident_id, id);
