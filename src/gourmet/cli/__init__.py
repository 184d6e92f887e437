"""The ``gourmet`` command line, and the commands installed packages add to it.

Load tests, replays and capacity simulations are not part of the product: the ``gourmet-tools``
package (``tools/``) registers them in the ``gourmet.commands`` entry point group, and they
appear here only where it is installed (``make install``; never in the production image).
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

from gourmet.cli import cluster, db, payments, seed, serve, status, users

PLUGIN_GROUP = "gourmet.commands"  # each entry point names a register(app) function

app = typer.Typer(
    help="Gourmet: online ordering for Gourmet Delights.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("run")(serve.run)
app.command("serve")(serve.serve)
app.add_typer(cluster.app, name="cluster")
app.add_typer(db.app, name="db")
app.add_typer(payments.app, name="payments")
app.add_typer(seed.app, name="seed")
app.add_typer(status.app, name="status")
app.add_typer(users.app, name="users")

for _entry in entry_points(group=PLUGIN_GROUP):
    try:
        _entry.load()(app)
    except ImportError as exc:
        # A plugin whose code is gone (an editable install since removed) must not take the
        # product's own commands down with it: say so and serve without it.
        print(f"gourmet: commands of {_entry.value} not loaded: {exc}", file=sys.stderr)
