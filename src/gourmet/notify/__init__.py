"""Telling customers: email over SMTP, text messages through an SMS provider, and local sinks of
both for development and tests. Nothing here knows what an order is (``ordering`` writes the
messages); this is how they travel."""
