"""Sales reports for managers: what was sold, by day, hour, item, fulfilment and payment."""
