"""The built-in ops dashboard, for operators without Prometheus: live charts and alerts."""
