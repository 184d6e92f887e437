"""The menu: categories, items, modifiers; served from an in-process cache."""
