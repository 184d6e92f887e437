"""What every command needs: settings and a database URL (embedded by default)."""

from __future__ import annotations

from gourmet.config import Settings
from gourmet.db.embedded import resolve_database_url


def database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database_url, settings.data_dir, settings.database_name)
