"""What leaves an order's transaction: the outbox and the customers' notices."""
