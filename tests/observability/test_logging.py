"""Request ids in and out, and one structured access line per request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gourmet.app import asgi_stack, create_app
from gourmet.asgi import ASGIApp
from gourmet.config import DatabaseSettings, LogsSettings, SecuritySettings, Settings
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.serving import serve

pytestmark = pytest.mark.anyio


def json_logging_app(database_url: str, data_dir: Path, *, ok_sample: float) -> ASGIApp:
    settings = Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=database_url),
        security=SecuritySettings(staff_token=STAFF_TOKEN),
        logs=LogsSettings(json_lines=True, ok_sample=ok_sample),
    )
    return asgi_stack(create_app(settings))


def access_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON access lines written to stderr so far."""
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


async def test_request_id_and_json_access_line(
    menu: FixtureMenu, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(json_logging_app(database_url, tmp_path, ok_sample=1.0)) as client:
        given = await client.get("/api/orders/unknown-token", headers={"X-Request-ID": "abc-123"})
        made = await client.get("/api/slots")
        odd = await client.get("/api/slots", headers={"X-Request-ID": "no spaces allowed\t!"})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 16
    assert odd.headers["x-request-id"] != "no spaces allowed\t!"
    access = access_lines(capsys)
    first = next(line for line in access if line["request_id"] == "abc-123")
    assert first["route"] == "/api/orders/{token}"
    assert first["status"] == 404
    assert first["method"] == "GET"
    assert first["latency_ms"] >= 0
    assert first["pool_wait_ms"] >= 0
    assert 0 < first["deadline_left_ms"] <= 3000
    slots = next(line for line in access if line["request_id"] == made.headers["x-request-id"])
    assert (slots["route"], slots["status"]) == ("/api/slots", 200)


async def test_fast_successes_are_sampled_errors_never(
    menu: FixtureMenu, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(json_logging_app(database_url, tmp_path, ok_sample=0.0)) as client:
        for _ in range(5):
            assert (await client.get("/api/slots")).status_code == 200
        assert (await client.get("/api/orders/missing-token")).status_code == 404
    access = access_lines(capsys)
    assert [(line["route"], line["status"]) for line in access] == [("/api/orders/{token}", 404)]
