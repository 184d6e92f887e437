"""Responses that close their connection while the process is on its way out.

A keep-alive connection outlives the request that opened it. When a server stops or a worker is
replaced, a client that reuses an idle connection at the moment it closes sees "server
disconnected" for a request it had already sent. While ``closing()`` holds, every response says
``Connection: close``: the client finishes that exchange and opens a new connection for the
next, which a load balancer (or the shared listener) gives to a process that stays.
"""

from __future__ import annotations

from collections.abc import Callable

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send

CLOSE = (b"connection", b"close")


class CloseConnectionsWhenLeaving:
    def __init__(self, app: ASGIApp, closing: Callable[[], bool]) -> None:
        self.app = app
        self.closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.closing():
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)
