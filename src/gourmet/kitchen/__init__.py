"""The kitchen's side of orders: the open-order list and status changes."""
