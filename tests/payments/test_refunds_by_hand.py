"""A manager refunds by hand, against the real sandbox provider and PostgreSQL: chosen lines,
an amount or the whole order of a card order through the provider; a collected pay-at-pickup
order in cash; never more than was paid, also when refunds race; once per Idempotency-Key; in
the order's history, its tracking view, the customer's email, the sales figures and
reconciliation. Bad requests get a problem and write nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from gourmet.db.types import Conn
from gourmet.notify import sink
from gourmet.ordering.money.reconcile import reconcile
from gourmet.payments.client import HttpPaymentProvider
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body, text_of
from tests.payments.helpers import Sandbox
from tests.payments.test_checkout_card import gourmet
from tests.payments.test_refunds import (
    FAST_OUTBOX,
    eventually,
    mail_sink,
    move,
    order_of,
    paid_order,
    refunds_at,
)
from tests.serving import Client

pytestmark = pytest.mark.anyio

TOTAL = 880  # two cakes at $4.00 and 10% tax: by_card's order
CAKE_WITH_TAX = 440


async def refund(client: Client, number: int, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {**STAFF_HEADERS, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"/api/manage/orders/{number}/refunds", json=body, headers=headers)


async def refunds_of(client: Client, number: int) -> dict[str, Any]:
    response = await client.get(f"/api/manage/orders/{number}/refunds", headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def rows(conn: Conn, table: str) -> int:
    row = await (await conn.execute(f"SELECT count(*) AS n FROM {table}")).fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_card_order_is_refunded_line_by_line_then_in_full_through_the_provider(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        number, token = order["number"], order["token"]
        cold = await refund(
            client, number, {"lines": [{"position": 1, "quantity": 1}], "reason": "cold"}
        )
        assert cold.status_code == 201, cold.text
        assert cold.json() | {"id": 0, "created_at": "", "done_at": None} == {
            "id": 0,
            "amount_cents": CAKE_WITH_TAX,  # the cake and its share of the tax
            "method": "card",
            "reason": "cold",
            "lines": [{"position": 1, "quantity": 1}],
            "state": "pending",
            "requested_by": "staff token",
            "created_at": "",
            "done_at": None,
        }

        async def refunded_so_far(cents: int) -> bool:
            return bool((await order_of(client, token))["refunded_cents"] == cents)

        await eventually(lambda: refunded_so_far(CAKE_WITH_TAX))
        seen = await order_of(client, token)
        assert seen["payment_status"] == "paid"  # the rest is still paid
        assert "Refunded $4.40 to the card: cold" in [h["reason"] for h in seen["history"]]
        # The same line has one cake left: two more are refused.
        again = await refund(
            client, number, {"lines": [{"position": 1, "quantity": 2}], "reason": "x"}
        )
        assert again.status_code == 422
        assert again.json()["type"].endswith("/invalid-refund")
        assert "1 left to refund" in again.json()["detail"]
        rest = await refund(client, number, {"whole": True, "reason": "still cold"})
        assert rest.status_code == 201, rest.text
        assert rest.json()["amount_cents"] == TOTAL - CAKE_WITH_TAX
        await eventually(lambda: refunded_so_far(TOTAL))
        assert (await order_of(client, token))["payment_status"] == "refunded"
        made = await refunds_at(sandbox)
        assert sorted(r["amount_cents"] for r in made) == [CAKE_WITH_TAX, TOTAL - CAKE_WITH_TAX]
        assert len({r["idempotency_key"] for r in made}) == 2
        listed = await refunds_of(client, number)
        assert (listed["refunded_cents"], listed["refundable_cents"]) == (TOTAL, 0)
        assert [r["state"] for r in listed["refunds"]] == ["done", "done"]
        nothing = await refund(client, number, {"amount_cents": 1, "reason": "more"})
        assert nothing.status_code == 409
        assert nothing.json()["type"].endswith("/nothing-to-refund")


async def test_more_than_was_paid_is_refused_and_writes_nothing(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        order = await paid_order(client, menu)
        asked = await refund(client, order["number"], {"amount_cents": TOTAL + 1, "reason": "oops"})
        assert asked.status_code == 422
        assert asked.json()["type"].endswith("/refund-too-large")
        assert asked.json()["refundable_cents"] == TOTAL
        assert "At most $8.80" in asked.json()["detail"]
    assert await rows(conn, "refund") == 0
    assert await rows(conn, "outbox WHERE kind = 'refund'") == 0


async def test_refunds_racing_never_give_back_more_than_was_paid(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        answers = await asyncio.gather(
            *[
                refund(client, order["number"], {"amount_cents": 300, "reason": f"race {n}"})
                for n in range(8)
            ]
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 201] + [422] * 6  # 600 of 880; a third would make 900

        async def made(total: int) -> bool:
            return sum(int(r["amount_cents"]) for r in await refunds_at(sandbox)) == total

        await eventually(lambda: made(600))
        await eventually(lambda: _refunded_equals(client, order["token"], 600))


async def _refunded_equals(client: Client, token: str, cents: int) -> bool:
    return bool((await order_of(client, token))["refunded_cents"] == cents)


async def test_a_request_sent_again_with_its_key_makes_one_refund(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        order = await paid_order(client, menu)
        other = await paid_order(client, menu)
        body = {"amount_cents": 100, "reason": "late"}
        first = await refund(client, order["number"], body, key="manager-click-1")
        second = await refund(client, order["number"], body, key="manager-click-1")
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json()["id"] == first.json()["id"]
        assert len((await refunds_of(client, order["number"]))["refunds"]) == 1
        reused = await refund(client, other["number"], body, key="manager-click-1")
        assert reused.status_code == 422
        assert reused.json()["type"].endswith("/idempotency-key-reused")
        assert (await refunds_of(client, other["number"]))["refunds"] == []


async def test_a_pay_at_pickup_order_is_refunded_in_cash_once_collected(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        placed = await client.post(
            "/api/orders", json=checkout_body([{"item_id": menu.cake, "quantity": 2}])
        )
        assert placed.status_code == 201, placed.text
        number, token = placed.json()["number"], placed.json()["token"]
        early = await refund(client, number, {"whole": True, "reason": "not collected"})
        assert early.status_code == 409
        assert "has not been collected" in early.json()["detail"]
        for status in ("accepted", "preparing", "ready", "completed"):
            assert (await move(client, number, status)).status_code == 200
        cash = await refund(client, number, {"amount_cents": 250, "reason": "missing side"})
        assert cash.status_code == 201, cash.text
        assert (cash.json()["method"], cash.json()["state"]) == ("cash", "done")
        seen = await order_of(client, token)
        assert (seen["refunded_cents"], seen["payment_status"]) == (250, "not_required")
        assert "Refunded $2.50 in cash: missing side" in [h["reason"] for h in seen["history"]]
        report = await client.get("/api/manage/reports", headers=STAFF_HEADERS)
        assert report.json()["totals"]["refunds_cents"] == 250
        assert report.json()["totals"]["net_cents"] == TOTAL - 250
        page = await client.get(f"/orders/{token}")
        assert "<dd data-refunded>$2.50</dd>" in page.text


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"amount_cents": 100}, 400, "bad-request"),  # no reason
        ({"amount_cents": 100, "reason": "   "}, 422, "invalid-refund"),
        ({"amount_cents": 100, "whole": True, "reason": "x"}, 422, "invalid-refund"),
        ({"reason": "x"}, 422, "invalid-refund"),  # nothing asked
        ({"lines": [{"position": 9, "quantity": 1}], "reason": "x"}, 422, "invalid-refund"),
        ({"amount_cents": 0, "reason": "x"}, 400, "bad-request"),
        ({"amount_cents": 100, "reason": "x", "to": "me"}, 400, "bad-request"),
    ],
)
async def test_a_bad_refund_request_gets_a_problem_and_writes_nothing(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    sandbox: Sandbox,
    conn: Conn,
    body: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        order = await paid_order(client, menu)
        answer = await refund(client, order["number"], body)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith(f"/{slug}"), answer.json()
        missing = await refund(client, 999_999, {"whole": True, "reason": "x"})
        assert missing.status_code == 404
        anonymous = await client.post(
            f"/api/manage/orders/{order['number']}/refunds", json={"whole": True, "reason": "x"}
        )
        assert anonymous.status_code == 401
    assert await rows(conn, "refund") == 0


async def test_an_order_cancelled_after_a_partial_refund_gives_back_only_the_rest(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        assert (
            await refund(client, order["number"], {"amount_cents": 200, "reason": "late"})
        ).status_code == 201
        await eventually(lambda: _refunded_equals(client, order["token"], 200))
        assert (await move(client, order["number"], "rejected", "oven broke")).status_code == 200
        await eventually(lambda: _refunded_equals(client, order["token"], TOTAL))
        assert sorted(r["amount_cents"] for r in await refunds_at(sandbox)) == [200, TOTAL - 200]
        assert (await order_of(client, order["token"]))["payment_status"] == "refunded"


async def test_reconciliation_agrees_with_refunds_by_hand(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        assert (
            await refund(client, order["number"], {"amount_cents": 300, "reason": "cold"})
        ).status_code == 201
        await eventually(lambda: _refunded_equals(client, order["token"], 300))
    async with httpx.AsyncClient() as http:
        provider = HttpPaymentProvider(http, base_url=sandbox.url)
        found = await reconcile(conn, await provider.ledger())
        assert found.differences == []
        # A refund the provider made that the order does not record is a difference.
        await conn.execute(
            "UPDATE orders SET refunded_cents = 100 WHERE token = %s", [order["token"]]
        )
        found = await reconcile(conn, await provider.ledger())
    assert [(d.kind, d.order) for d in found.differences] == [("refund differs", order["number"])]


async def test_the_customer_is_told_what_was_refunded_and_why(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    with mail_sink(tmp_path / "mail") as mail:
        async with gourmet(database_url, tmp_path, sandbox, **mail) as (client, _):
            order = await paid_order(client, menu)
            body = {"lines": [{"position": 1, "quantity": 1}], "reason": "the cake was dry"}
            assert (await refund(client, order["number"], body)).status_code == 201

            async def told() -> bool:
                return any(
                    m["subject"].startswith("Refund for order")
                    for m in sink.read_folder(tmp_path / "mail")
                )

            await eventually(told)
        mails = [m for m in sink.read_folder(tmp_path / "mail") if "Refund" in m["subject"]]
        assert len(mails) == 1
        text = " ".join(text_of(mails[0]).split())
        assert "We have refunded $4.40 to your card" in text
        assert "(the cake was dry)" in text


async def test_a_customer_who_cancels_a_paid_order_is_refunded_in_full(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **FAST_OUTBOX) as (client, _):
        order = await paid_order(client, menu)
        cancelled = await client.post(f"/api/orders/{order['token']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["payment_status"] == "refund_pending"
        await eventually(lambda: _refunded_equals(client, order["token"], TOTAL))
        assert [r["amount_cents"] for r in await refunds_at(sandbox)] == [TOTAL]
