"""Card payments: a provider interface, an HTTP client for it, a sandbox provider, a breaker."""
