"""What the admission layer answers by itself, before any application code runs: a refusal
(RFC 9457 problem+json, or a page for a browser), a place in the waiting room's line, a problem
with the request's body; and the request's body replayed to the app once read ahead."""

from __future__ import annotations

import functools
import json
import math

from gourmet.asgi import Message, Receive, Scope, Send
from gourmet.problems import Problem
from gourmet.resilience.waiting_room import TICKET_HEADER, Turn


@functools.cache
def _shed_problem_head(retry_after_s: int) -> bytes:
    """The problem+json body of a refusal up to its ``instance``, the only part that varies:
    under a 10x spike the server writes thousands of these a second."""
    unit = "second" if retry_after_s == 1 else "seconds"
    fields = {
        "type": "/problems/overloaded",
        "title": "Too busy right now",
        "status": 503,
        "detail": "We are very busy. Your request was not processed; "
        f"please retry in {retry_after_s} {unit}.",
        "retry_after_s": retry_after_s,
    }
    return json.dumps(fields, separators=(",", ":"))[:-1].encode() + b',"instance":'


def shed_response(path: str, retry_after_s: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the 503 for a refused request: RFC 9457 problem details."""
    body = _shed_problem_head(retry_after_s) + json.dumps(path).encode() + b"}"
    return refusal_headers(b"application/problem+json", body, retry_after_s), body


def refusal_headers(
    content_type: bytes, body: bytes, retry_after_s: int
) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
        (b"cache-control", b"no-store"),
    ]


# A browser gets a page, not JSON: kind words, and it retries by itself after Retry-After.
_SHED_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta http-equiv="refresh" content="{s}"><title>Very busy: Gourmet Delights</title>'
    "</head><body><main><h1>We are very busy right now</h1>"
    "<p>So many people are ordering that we could not open this page. Nothing was lost: "
    "this page tries again by itself in {s} seconds.</p>"
    '<p><a href="/status">See our status page</a></p></main></body></html>'
)


def shed_page(retry_after_s: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = _SHED_PAGE.format(s=retry_after_s).encode()
    return refusal_headers(b"text/html; charset=utf-8", body, retry_after_s), body


def line_response(
    path: str, turn: Turn, retry_after_s: int, ticket: str | None
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The 503 for an order attempt not served within its hold: its place in line, an estimate,
    when to come back, and the ticket that keeps its place (RFC 9457 problem details)."""
    ahead = turn.place - 1
    people = "1 order is" if ahead == 1 else f"{ahead} orders are"
    estimate = f" (about {max(math.ceil(turn.wait_s), 1)} s)" if turn.wait_s is not None else ""
    fields = {
        "type": "/problems/waiting-room",
        "title": "You are in line",
        "status": 503,
        "detail": f"Your order is not placed yet, and nothing was charged: {people} ahead of "
        f"yours{estimate}. We try again in {retry_after_s} s and you keep your place.",
        "place_in_line": turn.place,
        "estimated_wait_s": round(turn.wait_s, 1) if turn.wait_s is not None else None,
        "retry_after_s": retry_after_s,
        "ticket": ticket,
        "instance": path,
    }
    body = json.dumps(fields, separators=(",", ":")).encode()
    headers = refusal_headers(b"application/problem+json", body, retry_after_s)
    if ticket is not None:
        headers.append((TICKET_HEADER, ticket.encode()))
    return headers, body


async def send_problem(scope: Scope, send: Send, status: int, detail: str) -> None:
    """A framework-level problem answered before the app (the body read ahead of the line)."""
    body = json.dumps(Problem.from_http(status, detail).body(scope["path"])).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_unreadable_body(scope: Scope, send: Send) -> None:
    """400 for a body that ended before it was whole. granian reports a body it cannot parse (a
    malformed chunk size) as it reports a client that went away: ``http.disconnect``. Answered
    either way: a client still there learns its body was malformed instead of getting a 500,
    and to one that left the answer goes nowhere."""
    detail = "The request body could not be read whole (malformed, or cut short); nothing was done."
    await send_problem(scope, send, 400, detail)


class Replay:
    """The receive of a request whose body was read before it was admitted: the body once,
    then what the client does next (it goes away), from ``after``."""

    def __init__(self, body: bytes, after: Receive) -> None:
        self._body: bytes | None = body
        self._after = after

    async def __call__(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self._after()


def header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", ()) if key == name), None)


def wants_html(scope: Scope) -> bool:
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
    return b"text/html" in accept
