"""The ``gourmet`` command line."""

from __future__ import annotations

import typer

from gourmet.cli import capacity, cluster, db, loadtest, payments, seed, serve, status, users

app = typer.Typer(
    help="Gourmet: online ordering for Gourmet Delights.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("run")(serve.run)
app.command("serve")(serve.serve)
app.command("loadtest")(loadtest.loadtest)
app.command("replay-incident")(loadtest.replay)
app.command("drill")(loadtest.drill)
app.add_typer(capacity.app, name="capacity")
app.add_typer(cluster.app, name="cluster")
app.add_typer(db.app, name="db")
app.add_typer(payments.app, name="payments")
app.add_typer(seed.app, name="seed")
app.add_typer(status.app, name="status")
app.add_typer(users.app, name="users")
