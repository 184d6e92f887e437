"""Finding 4 of the hostile probe (2026-12-07): failed outbox jobs never settled. The failure
path raised a TypeError (structlog's first parameter is ``event``), so a refused refund or mail
was tried again every minute for ever, with no reason stored, nothing counted, and a long
traceback each time. (The addresses part of the finding: test_one_mailbox.py.)

Against the real pieces: PostgreSQL, the sandbox payment provider (a granian process), an SMTP
server (aiosmtpd in this process) that refuses or defers the recipients the test names. A job
given up ends ``failed`` with its reason, counted on /metrics, listed for staff and never tried
again; a transient failure is tried again after a backoff, with its error recorded, until the
retry policy gives up.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.db.types import Conn
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.outbox import Job, OutboxWorker
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.payments.helpers import Sandbox
from tests.payments.test_checkout_card import by_card
from tests.payments.test_checkout_card import gourmet as gourmet_with_provider
from tests.payments.test_refunds import FAST_OUTBOX, eventually
from tests.processes import free_port
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


async def the_job(conn: Conn, kind: str) -> dict[str, Any]:
    row = await (
        await conn.execute("SELECT * FROM outbox WHERE kind = %s ORDER BY id DESC", (kind,))
    ).fetchone()
    assert row is not None, f"no {kind} job"
    return row


async def settled_failed(conn: Conn, kind: str) -> bool:
    row = await (await conn.execute("SELECT state FROM outbox WHERE kind = %s", (kind,))).fetchone()
    return row is not None and row["state"] == "failed"


async def failed_count(client: Client, kind: str, outcome: str) -> float:
    """gourmet_outbox_jobs_failed_total{kind, outcome} as /metrics shows it."""
    page = await client.get("/metrics")
    for family in text_string_to_metric_families(page.text):
        for sample in family.samples:
            if sample.name == "gourmet_outbox_jobs_failed_total" and sample.labels == {
                "kind": kind,
                "outcome": outcome,
            }:
                return float(sample.value)
    return 0.0


async def staff_list(client: Client) -> dict[str, Any]:
    assert (await client.get("/api/ops/failed-jobs")).status_code == 401  # staff only
    response = await client.get("/api/ops/failed-jobs", headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    listed: dict[str, Any] = response.json()
    return listed


def log_lines(capsys: pytest.CaptureFixture[str], event: str) -> list[dict[str, Any]]:
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


# ---------------------------------------------------------------------------------------------
# An SMTP server that refuses (5xx) or defers (4xx) the recipients it is told to


@dataclass
class MailServer:
    replies: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT answer
    tried: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, recipient)
    delivered: list[list[str]] = field(default_factory=list)  # each message's recipients

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's name
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        self.tried.append((time.monotonic(), address))
        if reply := self.replies.get(address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_server() -> Iterator[tuple[MailServer, str]]:
    server = MailServer()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@contextlib.asynccontextmanager
async def mailing(settings: Settings, smtp_url: str, **notifications: Any) -> AsyncIterator[Client]:
    changed = settings.changed(
        notifications={"smtp_url": smtp_url, **FAST_OUTBOX["notifications"], **notifications},
        logs={"json_lines": True},
    )
    async with serve(asgi_stack(create_app(changed))) as client:
        yield client


# ---------------------------------------------------------------------------------------------
# Given up: failed with the reason, counted, shown to staff, never tried again


async def test_a_refund_the_provider_refuses_fails_is_counted_shown_and_not_retried(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    async with gourmet_with_provider(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (
        client,
        app,
    ):
        placed = await client.post("/api/orders", json=by_card(menu))
        assert placed.status_code == 201, placed.text
        order = placed.json()
        # Refunded in full at the provider by hand, so it refuses the order's own refund.
        charge = (await sandbox.charges())[0]
        by_hand = await sandbox.http.post(
            "/refunds",
            headers={"Idempotency-Key": "by-hand-1"},
            json={"charge_id": charge["id"], "amount_cents": order["totals"]["total_cents"]},
        )
        assert by_hand.status_code == 201, by_hand.text
        before = await failed_count(client, "refund", "refused")
        moved = await client.post(
            f"/api/staff/orders/{order['number']}/status",
            json={"status": "rejected", "reason": "out of flour"},
            headers=STAFF_HEADERS,
        )
        assert moved.status_code == 200, moved.text

        await eventually(lambda: settled_failed(conn, "refund"))
        job = await the_job(conn, "refund")
        assert job["attempts"] == 1
        assert "422" in job["last_error"], job["last_error"]  # the provider's answer
        assert await failed_count(client, "refund", "refused") == before + 1
        listed = await staff_list(client)
        assert listed["total"] == 1
        [shown] = listed["jobs"]
        assert (shown["kind"], shown["order"], shown["attempts"]) == ("refund", order["number"], 1)
        assert shown["last_error"] == job["last_error"]
        assert shown["failed_at"] is not None
        # The customer is still owed: the order says so until an operator acts.
        tracked = await client.get(f"/api/orders/{order['token']}")
        assert tracked.json()["payment_status"] == "refund_pending"
        # Never taken again, by any worker.
        called: list[Job] = []

        async def must_not_run(job: Job) -> None:
            called.append(job)

        pool = runtime_of(app).services.pool
        again = OutboxWorker(pool, {"refund": must_not_run}, every_s=3600, lease_s=60)
        assert await again.run_once() == 0
        assert called == []
        assert (await the_job(conn, "refund"))["attempts"] == 1


async def test_a_recipient_the_mail_server_refuses_fails_on_one_short_log_line(
    settings: Settings,
    menu: FixtureMenu,
    conn: Conn,
    mail_server: tuple[MailServer, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, url = mail_server
    server.replies["gone@example.com"] = "550 5.1.1 No such mailbox here"
    body = checkout_body([{"item_id": menu.cake}])
    body["customer"]["email"] = "gone@example.com"
    async with mailing(settings, url) as client:
        before = await failed_count(client, "email", "refused")
        placed = await client.post("/api/orders", json=body)
        assert placed.status_code == 201, placed.text
        await eventually(lambda: settled_failed(conn, "email"))
        job = await the_job(conn, "email")
        assert job["attempts"] == 1
        assert "550" in job["last_error"]
        assert await failed_count(client, "email", "refused") == before + 1
        [shown] = (await staff_list(client))["jobs"]
        assert (shown["kind"], shown["order"]) == ("email", placed.json()["number"])
    assert server.delivered == []
    assert [address for _, address in server.tried] == ["gone@example.com"]
    [line] = log_lines(capsys, "outbox_job_failed")
    assert line["kind"] == "email"
    assert line["job"] == job["event_key"]
    assert (line["order"], line["attempts"], line["outcome"]) == (job["order_id"], 1, "refused")
    assert "550" in line["error"]
    assert "exception" not in line  # no traceback: a final answer is not a bug


# ---------------------------------------------------------------------------------------------
# For now: tried again after a backoff, the error recorded, until the policy gives up


async def test_a_deferred_mail_is_retried_with_backoff_then_given_up(
    settings: Settings, menu: FixtureMenu, conn: Conn, mail_server: tuple[MailServer, str]
) -> None:
    server, url = mail_server
    server.replies["ada@example.com"] = "451 4.3.0 Try again later"
    async with mailing(settings, url, outbox_max_attempts=2) as client:
        before = await failed_count(client, "email", "exhausted")
        placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        assert placed.status_code == 201, placed.text

        async def tried_once() -> bool:
            row = await (await conn.execute("SELECT * FROM outbox")).fetchone()
            return row is not None and row["attempts"] == 1 and bool(row["last_error"])

        await eventually(tried_once)
        first = await the_job(conn, "email")
        assert first["state"] == "pending"
        assert "451" in first["last_error"]
        await eventually(lambda: settled_failed(conn, "email"))
        job = await the_job(conn, "email")
        assert job["attempts"] == 2
        assert job["last_error"].startswith("gave up after 2 attempts: ")
        assert "451" in job["last_error"]
        assert await failed_count(client, "email", "exhausted") == before + 1
        assert (await staff_list(client))["jobs"][0]["last_error"] == job["last_error"]
    times = [at for at, _ in server.tried]
    assert len(times) == 2  # not tried a third time
    # The first delay is 2 s jittered down by up to half: never the worker's next round.
    assert times[1] - times[0] >= 1.0
    assert server.delivered == []


async def test_a_bug_in_a_handler_is_recorded_retried_later_then_given_up(
    app: Litestar, client: Client, conn: Conn
) -> None:
    async def broken(job: Job) -> None:
        raise RuntimeError("boom")

    await outbox.enqueue(conn, "email", "email:test:bug", None, {"event": "confirmed"})
    pool = runtime_of(app).services.pool
    worker = OutboxWorker(pool, {"email": broken}, every_s=3600, lease_s=60)
    assert await worker.run_once() == 1
    job = await the_job(conn, "email")
    assert (job["state"], job["attempts"]) == ("pending", 1)
    assert job["last_error"] == "RuntimeError('boom')"
    waits = await (
        await conn.execute("SELECT due_at - now() AS wait FROM outbox WHERE id = %s", [job["id"]])
    ).fetchone()
    assert waits is not None
    assert 0 < waits["wait"].total_seconds() <= 2.0  # the backoff, not the 60 s lease
    assert await worker.run_once() == 0  # not due yet

    # Due again (the backoff skipped), to a worker whose policy allows two tries.
    await conn.execute("UPDATE outbox SET due_at = now() WHERE id = %s", [job["id"]])
    limited = OutboxWorker(
        pool, {"email": broken}, every_s=3600, lease_s=60, retry=outbox.RetryPolicy(max_attempts=2)
    )
    before = await failed_count(client, "email", "exhausted")
    assert await limited.run_once() == 1
    job = await the_job(conn, "email")
    assert (job["state"], job["attempts"]) == ("failed", 2)
    assert job["last_error"] == "gave up after 2 attempts: RuntimeError('boom')"
    assert await failed_count(client, "email", "exhausted") == before + 1


def test_the_retry_delay_doubles_from_2_s_up_to_5_minutes_jittered_down() -> None:
    policy = outbox.RetryPolicy(max_attempts=30)
    rng = random.Random(7)
    for attempts, full in [(1, 2.0), (2, 4.0), (5, 32.0), (9, 300.0), (29, 300.0)]:
        for _ in range(20):
            assert full / 2 <= policy.delay_s(attempts, rng) <= full
