"""Checkout, slots, orders and their status workflow."""
