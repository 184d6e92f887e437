"""Metrics appear and move when traffic flows (values, not only names)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from gourmet.observability.sampler import Sampler
from gourmet.resilience.limiter import Priority
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_request_and_order_metrics_move(client: Client, menu: FixtureMenu) -> None:
    before = await scrape(client)
    for _ in range(2):
        response = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        assert response.status_code == 201
    token = response.json()["token"]
    await client.get(f"/api/orders/{token}")
    await client.post("/api/orders", json=checkout_body([{"item_id": 999}]))
    for _ in range(3):
        await client.get("/api/menu")
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (
        grew("gourmet_http_requests_total", route="/api/orders", method="POST", status="201") == 2
    )
    assert (
        grew("gourmet_http_requests_total", route="/api/orders", method="POST", status="422") == 1
    )
    assert (
        grew("gourmet_http_requests_total", route="/api/orders/{token}", method="GET", status="200")
        == 1
    )
    assert grew("gourmet_http_requests_total", route="/api/menu", method="GET", status="200") == 3
    assert grew("gourmet_http_request_duration_seconds_count", route="/api/menu", method="GET") == 3
    assert grew("gourmet_orders_placed_total", fulfilment="pickup") == 2
    assert grew("gourmet_orders_rejected_total", reason="unknown-item") == 1
    # The three checkouts took connections; the status read was answered from memory.
    assert grew("gourmet_db_pool_acquire_seconds_count") >= 3


async def test_pool_and_admission_figures_are_sampled(client: Client, app: Litestar) -> None:
    runtime = runtime_of(app)
    admission = runtime.admission
    assert admission is not None
    sampler = Sampler(
        runtime.services.pool, runtime.services.menu_cache, runtime.limiter, admission
    )
    sampler.sample()
    before = await scrape(client)
    admission.shed[Priority.LOW] += 3  # as if three low-priority requests were shed
    runtime.limiter.waited += 2  # and two had waited out a burst
    sampler.sample()
    after = await scrape(client)
    assert value(after, "gourmet_db_up") == 1
    assert value(after, "gourmet_db_pool_max") == 8
    assert value(after, "gourmet_db_pool_stat", stat="pool_max") == 8
    assert value(after, "gourmet_admission_limit") == runtime.limiter.limit
    assert (
        value(after, "gourmet_admission_shed_total", priority="low")
        - value(before, "gourmet_admission_shed_total", priority="low")
        >= 3
    )
    assert (
        value(after, "gourmet_admission_waited_total")
        - value(before, "gourmet_admission_waited_total")
        >= 2
    )
    assert value(after, "gourmet_menu_cache_age_seconds") >= 0
