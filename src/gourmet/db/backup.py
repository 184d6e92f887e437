"""Backups with PostgreSQL's own tools: ``pg_dump``'s custom format, restored by ``pg_restore``.

The tools come from the pgserver wheel (the same version as the embedded server) when it is
installed, else from ``PATH`` (Debian's ``postgresql-client``, which must be at least the
server's version). A dump is consistent (one snapshot) and taken while Gourmet serves; a restore
replaces every object it contains in one transaction, so it is all or nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class BackupError(RuntimeError):
    """A tool is missing, or it failed; the message says which and why."""


def tool(name: str) -> str:
    """The path of ``pg_dump``, ``pg_restore`` or another PostgreSQL client tool."""
    try:
        import pgserver  # the embedded server's own binaries, when installed

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:  # pragma: no cover - pgserver is a runtime dependency
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client tools")
    return found


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


def backup(database_url: str, path: Path) -> None:
    """Dump the whole database to ``path`` (written to a temporary name, then renamed, so a
    failed dump never leaves a file that looks like a backup)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        _run(
            [
                tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={partial}",
                f"--dbname={database_url}",
            ]
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, path: Path) -> None:
    """Replace the database's objects with those of the dump at ``path``, in one transaction."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    _run(
        [
            tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={database_url}",
            str(path),
        ]
    )
