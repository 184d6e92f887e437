"""The old platform's connection handling, for the ``incident`` profile only: one database
connection taken when a request arrives and held until its answer has been sent.

The postmortem: "Inefficient connection handling and long query times exacerbated the issue."
Per-request connections were how the old platform worked (a connection per request, as many web
frameworks open one): the connection stays checked out while the request waits on the card
provider, renders its page or sits between two queries, so a pool of N serves N requests at a
time however little of each is database work, and every request over N waits for one, with no
deadline of its own (the old pool waited 30 s). Gourmet's own code takes a connection around
each unit of work and gives it back at once; this middleware makes every ``pool.connection()``
of a request return the request's held connection instead (:data:`HELD`).

Live streams (server-sent events) are left out: the old platform had none; its pages polled.
"""

from __future__ import annotations

from collections.abc import Callable

from gourmet.asgi import ASGIApp, Receive, Scope, Send
from gourmet.db.pool import HELD, GuardedPool

# Never took a connection on the old platform either: files, probes, metrics, live streams.
NOT_HELD = ("/static/", "/healthz", "/readyz", "/metrics")
STREAM_SUFFIX = "/events"


class HoldConnectionPerRequest:
    """ASGI: each HTTP request takes a connection from ``pool()`` before anything else and holds
    it until the app has sent its answer (the old platform's "a connection per request")."""

    def __init__(self, app: ASGIApp, pool: Callable[[], GuardedPool]) -> None:
        self.app = app
        self._pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(NOT_HELD) or path.endswith(STREAM_SUFFIX):
            await self.app(scope, receive, send)
            return
        async with self._pool().connection() as conn:
            token = HELD.set(conn)
            try:
                await self.app(scope, receive, send)
            finally:
                HELD.reset(token)
