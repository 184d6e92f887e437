"""A database of its own for each load test, on the tests' PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from gourmet_tools.loadtest.local import fresh_database


def own_database(admin_url: str, name: str) -> str:
    """``name`` made fresh as the local servers use it (demo menu, open all night); its URL."""
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    fresh_database(admin_url, url, name)
    return url
