-- Idempotency keys are kept for a retention period (GOURMET_ORDERS__IDEMPOTENCY_RETENTION_HOURS), then
-- pruned oldest first in small batches; this index makes finding the oldest ones cheap.
-- depends: 0005_accounts

CREATE INDEX checkout_request_created_at_idx ON checkout_request (created_at);
