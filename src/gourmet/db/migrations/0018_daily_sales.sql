-- Sales reports never compete with checkout: each past day's figures (in the restaurant's time
-- zone) are kept here by a background job and read, never recomputed, when a manager looks at
-- them. A day whose orders change later (a refund, a cancellation) is computed again: the
-- history's new entries name the days to redo.
-- depends: 0017_settle_card_attempts

CREATE TABLE daily_sales (
    day date PRIMARY KEY,
    figures jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_at ON order_status_history (at);
