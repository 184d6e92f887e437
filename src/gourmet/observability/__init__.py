"""Health, logs and (later) metrics."""
