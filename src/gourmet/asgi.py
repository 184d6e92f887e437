"""ASGI type names for the plain middleware layers.

Typed loosely on purpose: frameworks type their own ``__call__`` more narrowly (Litestar with a
TypedDict per scope type), and these layers must accept and wrap any ASGI callable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Any, Any, Any], Awaitable[None]]
