"""The money of orders: card payments, settling stray charges, refunds and reconciliation."""
