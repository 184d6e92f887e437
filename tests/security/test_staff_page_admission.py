"""The staff's pages take pool connections (the session behind a cookie is looked up, a sign-in
is counted), so they pass admission control like every route that reaches the database: with
the limit full they are refused at once, instead of queueing for a connection the limit was
meant to keep free. A static form stays never limited."""

from __future__ import annotations

import asyncio

import pytest

from gourmet.resilience.limiter import Priority
from tests.polling import wait_until
from tests.resilience.test_admission import (
    BLOCK,
    TRACK,
    GatedApp,
    call,
    fixed_limiter,
    middleware,
)

pytestmark = pytest.mark.anyio

STAFF_PAGES = [
    ("GET", "/kitchen"),
    ("GET", "/phone"),
    ("GET", "/manage"),
    ("GET", "/ops"),
    ("POST", "/ops/login"),
]


@pytest.mark.parametrize(("method", "path"), STAFF_PAGES)
async def test_a_staff_page_waits_its_turn_when_the_limit_is_full(method: str, path: str) -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = middleware(app, limiter)
    held = asyncio.create_task(call(mw, *TRACK, BLOCK))
    await wait_until(lambda: limiter.in_flight == 1)

    refused = await call(mw, method, path)

    assert refused.status == 503
    assert app.entered == 1  # never reached the app, nor its pool
    app.gate.set()
    await held
    assert (await call(mw, method, path)).status == 200


@pytest.mark.parametrize(("method", "path"), STAFF_PAGES)
def test_staff_pages_are_critical(method: str, path: str) -> None:
    """Operators need them most in a spike, as the API under /api/ops and /api/staff."""
    assert middleware(GatedApp(), fixed_limiter(1)).classify(method, path) == Priority.CRITICAL


def test_the_sign_in_form_itself_is_never_limited() -> None:
    assert middleware(GatedApp(), fixed_limiter(1)).classify("GET", "/ops/login") is None
