"""A request body with a malformed chunk size, sent as raw bytes to a served instance (granian):
answered 400 problem+json, not 500.

granian reports a body it cannot parse as it reports a client that left (``http.disconnect``);
the app ended such a request without an answer and granian filled in a bare 500."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gourmet.asgi import ASGIApp, Message, Receive, Scope
from gourmet.resilience.body_deadline import BodyDeadline
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.processes import stop
from tests.resilience.test_admission import GatedApp, fixed_limiter, middleware
from tests.test_serve import gourmet_serve

pytestmark = pytest.mark.anyio

ANSWER_TIMEOUT_S = 10.0
PATHS = ["/api/orders", "/api/session", "/api/accounts", "/api/manage/menu/items"]


async def send_raw(port: int, request: bytes) -> bytes:
    """The whole answer to ``request`` (the server closes the connection after it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            head = await reader.readuntil(b"\r\n\r\n")
            headers = dict(
                line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
            )
            body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    finally:
        writer.close()
    return head + body


def chunked_post(path: str, chunk_size: bytes) -> bytes:
    return (
        (
            f"POST {path} HTTP/1.1\r\nHost: gourmet\r\nContent-Type: application/json\r\n"
            f"X-Requested-With: gourmet\r\nAuthorization: Bearer {STAFF_TOKEN}\r\n"
            "Idempotency-Key: chunk-probe-0001\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunk_size
        + b"\r\n{}\r\n0\r\n\r\n"
    )


async def test_a_malformed_chunk_size_is_a_400_problem(
    database_url: str, tmp_path: Path, menu: FixtureMenu
) -> None:
    port, process = gourmet_serve(database_url, tmp_path)
    try:
        answers = {path: await send_raw(port, chunked_post(path, b"zz")) for path in PATHS}
        well_formed = await send_raw(port, chunked_post("/api/session", b"2"))
    finally:
        stop(process)
    for path, answer in answers.items():
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 400 "), (path, answer)
        assert b"content-type: application/problem+json" in head.lower(), (path, answer)
        problem = json.loads(body)
        assert problem["status"] == 400
        assert "could not be read" in problem["detail"]
    # The same request with a chunk size that parses is read, and answered by the app.
    head, body = well_formed.split(b"\r\n\r\n", 1)
    assert not head.startswith(b"HTTP/1.1 500"), well_formed
    assert "could not be read" not in json.loads(body)["detail"]


def cut_short() -> Receive:
    """A body that ends in ``http.disconnect``: what granian passes on for a malformed chunk."""
    messages: list[Message] = [
        {"type": "http.disconnect"},
        {"type": "http.request", "body": b'{"email":', "more_body": True},
    ]

    async def receive() -> Message:
        return messages.pop()

    return receive


@pytest.mark.parametrize("layer", ["admission", "body deadline"])
async def test_each_layer_that_reads_bodies_answers_a_cut_short_one(layer: str) -> None:
    app = GatedApp()
    reader: ASGIApp = (
        middleware(app, fixed_limiter(1))
        if layer == "admission"
        else BodyDeadline(app, timeout_s=5.0, max_body_bytes=1024)
    )
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/session",
        "headers": [(b"transfer-encoding", b"chunked")],
        "state": {},
    }
    await reader(scope, cut_short(), send)
    assert app.entered == 0
    assert sent[0]["status"] == 400
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"
    assert json.loads(sent[1]["body"])["status"] == 400
