"""Gourmet: online ordering for Gourmet Delights."""
