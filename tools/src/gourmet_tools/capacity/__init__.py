"""Capacity: plans and simulations of deployments within the database's connections."""
