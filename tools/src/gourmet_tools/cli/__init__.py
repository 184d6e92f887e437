"""The tools' commands, added to the ``gourmet`` command line through the ``gourmet.commands``
entry point (see ``tools/pyproject.toml``): ``gourmet loadtest``, ``gourmet replay-incident``,
``gourmet drill`` and ``gourmet capacity plan|simulate``."""

from __future__ import annotations

import typer

from gourmet_tools.cli import capacity, loadtest


def register(app: typer.Typer) -> None:
    """Add the tools' commands to the ``gourmet`` app."""
    app.command("loadtest")(loadtest.loadtest)
    app.command("replay-incident")(loadtest.replay)
    app.command("drill")(loadtest.drill)
    app.add_typer(capacity.app, name="capacity")
