"""Structured logs (structlog): JSON for machines, readable in development, one line per request.

Every request gets an id (the client's ``X-Request-ID`` when it is sane, else a new one), bound to
every log line written while serving it and returned in the response. The access line carries what
an operator needs to find the cause of an outage in a minute: route, status, latency, how long the
request waited for a database connection and how much of its deadline was left.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import structlog

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send
from gourmet.telemetry.metrics import template_only

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
# Seconds this request spent waiting for pooled connections (the pool adds to it).
POOL_WAIT: ContextVar[float] = ContextVar("gourmet_pool_wait", default=0.0)

# The request being served in this task; a processor adds it to every line. One ContextVar set
# per request is cheaper than structlog's bind/unbind, which copies its context each time.
REQUEST_ID: ContextVar[str | None] = ContextVar("gourmet_request_id", default=None)

access_log = structlog.get_logger("gourmet.access")


def _add_request_id(
    _logger: Any, _method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(json_lines: bool, level: str = "INFO") -> None:
    """Route structlog and the standard library (psycopg_pool, granian) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,  # configure() may run again (tests, reloads)
    )
    handler = _CurrentStderr()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # chatty about its own bookkeeping


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when configured:
    test captures and daemonizing tools replace it, and atexit hooks log late."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class RequestLog:
    """ASGI layer: request id in, request id out, one access line per request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        skip_ok_paths: frozenset[str] = frozenset(),
        ok_sample: float = 1.0,
        slow_ms: float = 250.0,
        deadline_left: Callable[[Scope], float | None] = lambda _scope: None,
        label: Callable[[Scope], str] = template_only,
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        # Seconds left of the request's deadline, from whoever stamped it (admission control).
        self._deadline_left = deadline_left
        self._label = label  # the route template of a request (telemetry.metrics.RouteLabels)
        # Successful requests to these paths are not logged (the cached menu at thousands per
        # second would drown everything else); their errors still are.
        self._skip_ok = skip_ok_paths
        # A line per fast success costs more CPU than a cached read itself: under load, keep a
        # sample of them; errors and slow requests are always logged.
        self._ok_sample = ok_sample
        self._slow_s = slow_ms / 1000
        self._rng = rng or random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500
        id_token = REQUEST_ID.set(request_id)
        wait_token = POOL_WAIT.set(0.0)

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            elapsed = time.perf_counter() - started
            if self._worth_logging(scope["path"], status, elapsed):
                left = self._deadline_left(scope)
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=self._label(scope),
                    status=status,
                    latency_ms=round(elapsed * 1000, 2),
                    pool_wait_ms=round(POOL_WAIT.get() * 1000, 2),
                    deadline_left_ms=None if left is None else round(left * 1000),
                )
            POOL_WAIT.reset(wait_token)
            REQUEST_ID.reset(id_token)

    def _worth_logging(self, path: str, status: int, elapsed_s: float) -> bool:
        if status >= 400 or elapsed_s >= self._slow_s:
            return True
        if path in self._skip_ok:
            return False
        return self._ok_sample >= 1.0 or self._rng.random() < self._ok_sample


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _SANE_ID.match(value):
            return str(value.decode())
    return secrets.token_hex(8)
