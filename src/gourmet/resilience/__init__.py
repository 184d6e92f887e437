"""Admission control, request deadlines and load shedding, as pure ASGI middleware."""
