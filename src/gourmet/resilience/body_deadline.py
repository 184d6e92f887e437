"""Every request body is read whole within GOURMET_SERVER__BODY_READ_TIMEOUT_S, before the app.

Admission control read a limited route's body within the request's deadline, but routes it never
limits (``POST /ops/login``) read theirs for as long as the client took: a body trickled a byte
at a time held a connection and a task without end, and a client that left mid-body ended a
request the app had not answered, logged as a 500. Here, outermost, the body is read first:
too slow, and the answer is 408 (problem+json, the connection closed); the client gone, and the
request ends unanswered, never having reached the app. Bodies are small here (at most
GOURMET_SERVER__MAX_BODY_BYTES, 413 beyond), so holding one in memory costs nothing worth
streaming for.
"""

from __future__ import annotations

import asyncio

from prometheus_client import Counter

from gourmet.asgi import ASGIApp, Receive, Scope, Send
from gourmet.resilience.answers import Replay, header, send_problem, send_unreadable_body

BODIES_UNFINISHED = Counter(
    "gourmet_request_bodies_unfinished",
    "Requests whose body never arrived whole",
    ["outcome"],  # timeout (answered 408), disconnect (the client left), too_large (413)
)


class BodyDeadline:
    def __init__(self, app: ASGIApp, *, timeout_s: float, max_body_bytes: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive, send)
        if body is not None:
            await self.app(scope, Replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        body, unfinished = await read_body(
            scope, receive, send, self.timeout_s, self.max_body_bytes
        )
        if unfinished is not None:
            BODIES_UNFINISHED.labels(unfinished).inc()
        return body


async def read_body(
    scope: Scope, receive: Receive, send: Send, timeout_s: float, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """The whole request body within ``timeout_s`` and ``max_bytes``, or None and why not
    (``disconnect``: the client left; ``too_large``: answered 413; ``timeout``: answered 408)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    await send_unreadable_body(scope, send)
                    return None, "disconnect"
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    detail = f"The request body may be at most {max_bytes} bytes."
                    await send_problem(scope, send, 413, detail)
                    return None, "too_large"
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks), None
    except TimeoutError:
        detail = "The request body did not arrive in time; nothing was done."
        await send_problem(scope, send, 408, detail)
        return None, "timeout"


def has_body(scope: Scope) -> bool:
    """Whether the request says a body follows (a length above zero, or chunks)."""
    if header(scope, b"transfer-encoding") is not None:
        return True
    length = header(scope, b"content-length")
    return length is not None and length.strip() not in (b"", b"0")
