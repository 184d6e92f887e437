"""Schema migrations with yoyo-migrations: plain SQL files in ``db/migrations``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class MigrationStatus:
    applied: list[str]
    pending: list[str]


def _yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the scheme; ``postgresql+psycopg`` selects psycopg 3."""
    _, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {database_url!r}")
    return f"postgresql+psycopg://{rest}"


def status(database_url: str) -> MigrationStatus:
    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = {m.id for m in backend.to_apply(migrations)}
    ids = [m.id for m in migrations]
    return MigrationStatus(
        applied=[i for i in ids if i not in pending], pending=[i for i in ids if i in pending]
    )


def upgrade(database_url: str) -> list[str]:
    """Apply every pending migration, each in its own transaction; return their ids."""
    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        todo = backend.to_apply(migrations)
        backend.apply_migrations(todo)
    return [m.id for m in todo]
