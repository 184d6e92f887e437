"""Serve an ASGI app to the tests in the test's own event loop, requests truly concurrent.

Litestar's test client runs the app behind a portal that handles one request at a time, which
would make every concurrency test sequential. httpx's ASGI transport runs each request in the
caller's task, so ``asyncio.gather`` of requests races them for real; the lifespan (pool, menu
cache, listeners) is driven here, as a server would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gourmet.asgi import ASGIApp

Client = httpx.AsyncClient


class StartupError(RuntimeError):
    """The app's lifespan startup failed; the message is the app's own."""


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task: asyncio.Future[None] = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    try:
        message = await _next_message(outbox, task)
    except Exception as exc:  # the app failed its startup by raising
        raise StartupError(_leaves(exc)) from exc
    if message["type"] != "lifespan.startup.complete":
        with contextlib.suppress(BaseException):  # the app may re-raise after reporting
            await task
        raise StartupError(message.get("message", "lifespan startup failed"))
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await _next_message(outbox, task)
        await task


async def _next_message(outbox: asyncio.Queue[dict[str, Any]], task: asyncio.Future[Any]) -> Any:
    getter = asyncio.ensure_future(outbox.get())
    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    task.result()  # raises what the app raised
    raise StartupError("the app ended its lifespan without answering")


def _leaves(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_leaves(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[Client]:
    """Start ``app``'s lifespan and give a client whose requests run concurrently in-loop."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
