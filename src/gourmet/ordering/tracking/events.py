"""Live order status over server-sent events, pushed from PostgreSQL notifications.

A browser tracking its order (or the kitchen board) keeps one stream open. Each stream reads the
order once at start and again only when the notification hub says that order changed (or that
the hub reconnected), so an idle stream costs no database work and holds no connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar.response.sse import ServerSentEventMessage

from gourmet.db.notifications import ORDER_CHANNEL, RESYNC, NotificationHub
from gourmet.ordering.repository import parse_notice
from gourmet.ordering.schemas import KitchenCard, OrderView
from gourmet.ordering.workflow import TRANSITIONS
from gourmet.resilience import deadline
from gourmet.telemetry import metrics

T = TypeVar("T")
HEARTBEAT_S = 15.0  # keeps proxies from closing a quiet stream; browsers reconnect on their own
RETRY_MS = 3000


async def order_stream(
    hub: NotificationHub, token: str, read: Callable[[str], Awaitable[OrderView]]
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """``order`` events with the full order: now, then after every change, until it ends."""
    metrics.EVENT_STREAMS.inc()
    try:
        async with hub.subscribe(ORDER_CHANNEL) as changes:
            view = await _fresh(read, token)
            yield _event(view)
            while TRANSITIONS[view.status]:  # a completed or rejected order changes no more
                try:
                    payload = await asyncio.wait_for(changes.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="heartbeat")
                    continue
                if payload == RESYNC or parse_notice(payload)[0] == token:
                    view = await _fresh(read, token)
                    yield _event(view)
    finally:
        metrics.EVENT_STREAMS.dec()


async def _fresh(read: Callable[..., Awaitable[T]], *args: Any) -> T:
    """One read for a long-lived stream. The request's deadline bounds the request that opened
    the stream, not each of its later reads, which get the pool's own timeout instead."""
    with deadline.unbounded():
        return await read(*args)


def _event(view: OrderView) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        data=msgspec.json.encode(view).decode(), event="order", retry=RETRY_MS
    )


async def kitchen_stream(
    hub: NotificationHub, read: Callable[[], Awaitable[list[KitchenCard]]]
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """``orders`` events with every open order: now, then after any order changes."""
    metrics.EVENT_STREAMS.inc()
    try:
        async with hub.subscribe(ORDER_CHANNEL) as changes:
            yield _board(await _fresh(read))
            while True:
                try:
                    await asyncio.wait_for(changes.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="heartbeat")
                    continue
                while not changes.empty():  # a burst of changes costs one read
                    changes.get_nowait()
                yield _board(await _fresh(read))
    finally:
        metrics.EVENT_STREAMS.dec()


def _board(cards: list[KitchenCard]) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        data=msgspec.json.encode(cards).decode(), event="orders", retry=RETRY_MS
    )
