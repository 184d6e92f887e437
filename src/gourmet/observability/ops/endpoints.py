"""The ops page (the staff role: a staff account's session, or the staff token) and its data."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import plotly
from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import STAFF_COOKIE, require_staff, token_matches
from gourmet.accounts.throttle import SignInThrottle
from gourmet.observability.ops.alerts import firing
from gourmet.observability.ops.timeseries import Recorder
from gourmet.web.security import OPS_PAGE_HEADERS, PAGE_HEADERS, local_path

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
COOKIE_MAX_AGE_S = 12 * 3600


@cache
def _plotly_bundle() -> bytes:
    return PLOTLY_JS.read_bytes()


@get("/static/vendor/plotly.min.js", include_in_schema=False, sync_to_thread=False)
def plotly_js() -> Response[bytes]:
    """plotly.js, from the plotly wheel: charts without a CDN."""
    return Response(
        _plotly_bundle(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@get("/ops/login", include_in_schema=False, sync_to_thread=False)
def login_page(error: str | None = None, next: str = "/ops") -> Template:
    return Template(
        template_name="ops_login.html",
        context={"error": error, "next": _local_path(next)},
        headers=PAGE_HEADERS,
    )


def _local_path(target: str) -> str:
    return local_path(target, "/ops")


@post("/ops/login", include_in_schema=False, status_code=303)
async def login(
    request: Request[Any, Any, Any],
    state: State,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    target = _local_path(data.get("next", "/ops"))
    throttle: SignInThrottle = state.signin_throttle
    address = request.client.host if request.client else "unknown"
    throttle.check(address)
    if not token_matches(data.get("token", ""), state.staff_token):
        throttle.failed(address)
        return Redirect(f"/ops/login?error=1&next={target}", status_code=303)
    throttle.succeeded(address)
    response = Redirect(target, status_code=303)
    response.set_cookie(
        STAFF_COOKIE,
        state.staff_token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=state.settings.cookie_secure,
        path="/",
    )
    return response


@get("/", include_in_schema=False)
async def ops_page(state: State) -> Template:
    return Template(
        template_name="ops.html",
        context={"feed": state.status_board.feed()},
        headers=OPS_PAGE_HEADERS,
    )


@get("/series", summary="The ops page's data: 15 minutes of this worker's figures, alerts")
async def ops_series(state: State) -> dict[str, Any]:
    recorder: Recorder = state.recorder
    return {
        "worker_pid": os.getpid(),
        "series": recorder.series(),
        "alerts": [alert.__dict__ for alert in firing(recorder.points)],
        "status": state.status_board.feed(),
    }


ROUTES: list[ControllerRouterHandler] = [
    plotly_js,
    login_page,
    login,
    Router(path="/ops", route_handlers=[ops_page], guards=[require_staff]),
    Router(path="/api/ops", route_handlers=[ops_series], guards=[require_staff]),
]
