"""The ground floor every layer may use: Prometheus metrics and structured logs."""
