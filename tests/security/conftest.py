"""The security suite reuses the payment tests' real sandbox provider."""

from tests.payments.conftest import http_client, provider, sandbox, sandbox_url

__all__ = ["http_client", "provider", "sandbox", "sandbox_url"]
