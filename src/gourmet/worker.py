"""What each worker of ``gourmet serve`` runs (granian's factory target, ``cli/serve.py``).

The app of :func:`gourmet.app.create_server_app` behind two guards that only a served worker
needs: the body deadline (every route) and the connection sweep (a thread from startup to
shutdown). In-process tests run the app without them.
"""

from __future__ import annotations

from gourmet.app import create_server_app
from gourmet.asgi import ASGIApp
from gourmet.config import Settings
from gourmet.resilience.body_deadline import BodyDeadline
from gourmet.resilience.connections import ConnectionSweeper, SweepRules, SweepWhileServing


def create_worker_app() -> ASGIApp:
    settings = Settings()
    app = BodyDeadline(
        create_server_app(settings),
        timeout_s=settings.server.body_read_timeout_s,
        max_body_bytes=settings.server.max_body_bytes,
    )
    sweeper = ConnectionSweeper(
        SweepRules.from_settings(settings), settings.server.connection_sweep_s
    )
    return SweepWhileServing(app, sweeper)
