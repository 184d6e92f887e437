"""Following an order: its view, the in-memory order book, and the live event streams."""
