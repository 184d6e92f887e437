"""The ops page: signing in, the figures, the in-process alerts, CSRF on cookie sessions."""

from __future__ import annotations

import pytest
from litestar import Litestar

from gourmet.config import DatabaseSettings, PaymentsSettings, SecuritySettings, Settings
from gourmet.observability.ops.alerts import firing
from gourmet.observability.ops.timeseries import Point
from gourmet.services import runtime_of
from tests.conftest import ROOT, STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


def point(**overrides: object) -> Point:
    values: dict[str, object] = {
        "at": 0.0,
        "requests_per_s": 100.0,
        "errors_per_s": 0.0,
        "shed_per_s": 0.0,
        "p50_ms": 5.0,
        "p99_ms": 50.0,
        "pool_in_use": 2,
        "pool_waiting": 0,
        "pool_max": 10,
        "orders_per_min": 30.0,
        "database_up": True,
    }
    return Point(**{**values, **overrides})  # type: ignore[arg-type]


def test_alerts_share_names_and_runbooks_with_the_prometheus_rules() -> None:
    rules = (ROOT / "deploy" / "prometheus" / "rules.yml").read_text()
    everything = [
        point(database_up=False, pool_waiting=3, pool_in_use=10, shed_per_s=5.0, errors_per_s=5.0)
    ] * 3
    for alert in firing(everything):
        assert f"alert: {alert.name}" in rules
        assert (ROOT / alert.runbook).is_file()


def test_alerts_fire_only_when_sustained() -> None:
    assert firing([point()] * 3) == []
    waiting = [point(pool_waiting=3)] * 3
    assert [a.name for a in firing(waiting)] == ["DbPoolExhausted"]
    assert firing([point(), point(pool_waiting=3), point(pool_waiting=3)]) == []
    saturated = firing([point(pool_in_use=10)] * 3)
    assert [a.name for a in saturated] == ["DbPoolSaturated"]
    assert saturated[0].runbook == "docs/runbooks/connection-pool-saturation.md"
    shedding = firing([point(shed_per_s=5.0)] * 3)
    assert [a.name for a in shedding] == ["RequestsShed"]
    down = firing([point(), point(), point(database_up=False)])
    assert [a.name for a in down] == ["DatabaseDown"]
    assert [a.name for a in firing([point(errors_per_s=1.0)] * 3)] == [
        "CheckoutAvailabilityBurnFast"
    ]


async def test_sign_in_and_see_the_figures(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    assert (await client.get("/ops")).status_code == 401
    wrong = await client.post("/ops/login", data={"token": "nope"})
    assert wrong.status_code == 303
    assert wrong.headers["location"] == "/ops/login?error=1&next=/ops"
    signed = await client.post("/ops/login", data={"token": STAFF_TOKEN})
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    page = await client.get("/ops")
    assert page.status_code == 200
    assert "/static/vendor/plotly.min.js" in page.text
    plotly_js = await client.get("/static/vendor/plotly.min.js")
    assert plotly_js.status_code == 200
    assert len(plotly_js.content) > 1_000_000

    recorder = runtime_of(app).services.recorder
    recorder.record()
    for _ in range(3):
        await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    recorder.record()
    data = (await client.get("/api/ops/series")).json()
    assert data["series"], "expected at least one point"
    latest = data["series"][-1]
    assert latest["requests_per_s"] > 0
    assert latest["orders_per_min"] > 0
    assert latest["database_up"] is True
    assert data["status"]["overall"] == "operational"


async def test_cookie_sessions_need_the_csrf_header(client: Client, menu: FixtureMenu) -> None:
    await client.post("/ops/login", data={"token": STAFF_TOKEN})
    body = {"title": "Test", "state": "investigating", "message": "Checking."}
    forged = await client.post("/api/ops/incidents", json=body)
    assert forged.status_code == 403
    assert forged.json()["type"] == "/problems/csrf"
    ours = await client.post(
        "/api/ops/incidents", json=body, headers={"X-Requested-With": "gourmet"}
    )
    assert ours.status_code == 201


async def test_sign_in_is_throttled_after_five_wrong_tokens(
    client: Client, menu: FixtureMenu
) -> None:
    for _ in range(5):
        wrong = await client.post("/ops/login", data={"token": "guess"})
        assert wrong.status_code == 303
    blocked = await client.post("/ops/login", data={"token": STAFF_TOKEN})
    assert blocked.status_code == 429
    assert blocked.json()["type"] == "/problems/too-many-attempts"
    assert int(blocked.headers["retry-after"]) > 0


def test_production_refuses_a_missing_short_or_weak_staff_token_and_plain_cookies() -> None:
    with pytest.raises(ValueError, match="GOURMET_SECURITY__STAFF_TOKEN must be set"):
        Settings(environment="production", database=DatabaseSettings(url="postgresql://x@/y"))
    with pytest.raises(ValueError, match="at least 24"):
        Settings(
            environment="production",
            database=DatabaseSettings(url="postgresql://x@/y"),
            security=SecuritySettings(staff_token="short"),
        )

    def production(security: SecuritySettings) -> Settings:
        return Settings(
            environment="production",
            database=DatabaseSettings(url="postgresql://x@/y"),
            security=security,
            payments=PaymentsSettings(url=None),  # pay at pickup only (Stripe: test_stripe.py)
        )

    with pytest.raises(ValueError, match="different characters"):
        production(SecuritySettings(staff_token="s" * 24, cookie_secure=True))
    with pytest.raises(ValueError, match="different characters"):
        production(SecuritySettings(staff_token="abcd" * 8, cookie_secure=True))
    secret = "kV3-qT9zLm2xW8pRb7YcN4dHs"
    with pytest.raises(ValueError, match="GOURMET_SECURITY__COOKIE_SECURE"):
        production(SecuritySettings(staff_token=secret))
    ok = production(SecuritySettings(staff_token=secret, cookie_secure=True))
    assert ok.resolved_staff_token() == secret
