"""Checkout: pricing a cart, the slots a customer may choose, and placing the order."""
