"""Staff pages: the kitchen board, the manager's console, the ops page and the staff sign-in.

The board and the console are shells whose scripts load and change everything through the API
(``/api/staff``, ``/api/manage``); the ops page draws ``/api/ops/series``. A browser without the
right role is sent to the sign-in form, which takes the shared staff token (accounts sign in
through ``/api/session`` and are recognised by their session cookie).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final, get_args

import plotly
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from gourmet.accounts.endpoints import client_of
from gourmet.accounts.guards import (
    STAFF_COOKIE,
    CsrfRefused,
    Gate,
    from_another_site,
    require_staff,
    token_matches,
)
from gourmet.accounts.limits import AccessLimits
from gourmet.accounts.schemas import Role
from gourmet.config import Settings
from gourmet.menu.service import MenuCache
from gourmet.observability.status.service import StatusBoard
from gourmet.ordering.schemas import OrderStatus
from gourmet.web.menu_pages import TIP_PERCENTS
from gourmet.web.rendering import Pages
from gourmet.web.security import OPS_PAGE_HEADERS, PAGE_HEADERS, PRIVATE_HEADERS, local_path

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
COOKIE_MAX_AGE_S = 12 * 3600
SIGN_IN_PATH: Final = "/ops/login"
# The throttle's name for sign-ins with the staff token.
STAFF_SIGN_IN: Final = "staff-token-sign-in"


async def _for_role(
    request: Request[Any, Any, Any],
    gate: Gate,
    minimum: Role,
    template: str,
    headers: dict[str, str],
    **context: Any,
) -> Template | Redirect:
    """``template`` for a browser with the role, else the sign-in form, coming back here."""
    if not await gate.has_role(request, minimum):
        return Redirect(f"{SIGN_IN_PATH}?next={request.url.path}", status_code=303)
    return Template(template_name=template, headers=headers, context=context)


@get("/kitchen", include_in_schema=False)
async def kitchen_board(
    request: Request[Any, Any, Any],
    gate: NamedDependency[Gate],
    settings: NamedDependency[Settings],
) -> Template | Redirect:
    """Live cards of open orders (the staff role)."""
    alarm = settings.kitchen.unaccepted_alarm_minutes
    return await _for_role(
        request, gate, "staff", "staff/kitchen.html", PAGE_HEADERS, alarm_minutes=alarm
    )


@get("/phone", include_in_schema=False)
async def phone_order_page(
    request: Request[Any, Any, Any],
    gate: NamedDependency[Gate],
    pages: NamedDependency[Pages],
    menu_cache: NamedDependency[MenuCache],
) -> Response[bytes] | Template | Redirect:
    """The checkout in phone mode, with an item picker: staff enter a caller's order (the staff
    role; a manager's override is checked by the API)."""
    if not await gate.has_role(request, "staff"):
        return Redirect(f"{SIGN_IN_PATH}?next={request.url.path}", status_code=303)
    return await pages.menu_bound_or_fallback(
        request,
        menu_cache,
        "staff/phone.html",
        card_payments=False,
        sandbox_cards=(),
        tip_percents=TIP_PERCENTS,
    )


@get("/manage", include_in_schema=False)
async def manage_page(
    request: Request[Any, Any, Any], gate: NamedDependency[Gate]
) -> Template | Redirect:
    """The manager's console (the manager role)."""
    return await _for_role(request, gate, "manager", "staff/manage.html", PRIVATE_HEADERS)


@get("/kitchen/orders", include_in_schema=False)
async def past_orders_page(
    request: Request[Any, Any, Any], gate: NamedDependency[Gate], pages: NamedDependency[Pages]
) -> Template | Redirect:
    """Past orders, searched and opened in full (the staff role); managers refund from it."""
    if not await gate.has_role(request, "staff"):
        return Redirect(f"{SIGN_IN_PATH}?next={request.url.path}", status_code=303)
    return Template(
        template_name="staff/orders.html",
        context={
            "statuses": get_args(OrderStatus),
            "can_refund": await gate.has_role(request, "manager"),
            "currency": pages.money.currency,
        },
        headers=PRIVATE_HEADERS,
    )


@get("/manage/staff", include_in_schema=False)
async def staff_accounts_page(
    request: Request[Any, Any, Any], gate: NamedDependency[Gate]
) -> Template | Redirect:
    """Staff, manager and admin accounts (the admin role)."""
    return await _for_role(request, gate, "admin", "staff/staff_accounts.html", PRIVATE_HEADERS)


@get("/manage/reports", include_in_schema=False)
async def reports_page(
    request: Request[Any, Any, Any], gate: NamedDependency[Gate]
) -> Template | Redirect:
    """Sales by day, hour and item, with charts (the manager role); the figures come from
    ``/api/manage/reports``. plotly.js sets styles at run time, as on the ops page."""
    if not await gate.has_role(request, "manager"):
        return Redirect(f"{SIGN_IN_PATH}?next={request.url.path}", status_code=303)
    headers = {**OPS_PAGE_HEADERS, "Cache-Control": "private, no-store"}
    return Template(template_name="staff/reports.html", headers=headers)


@get("/", include_in_schema=False)
async def ops_page(status_board: NamedDependency[StatusBoard]) -> Template:
    return Template(
        template_name="staff/ops.html",
        context={"feed": status_board.feed()},
        headers=OPS_PAGE_HEADERS,
    )


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


def _local_path(target: str) -> str:
    return local_path(target, "/ops")


@get(SIGN_IN_PATH, include_in_schema=False, sync_to_thread=False)
def login_page(
    error: Annotated[str | None, QueryParameter()] = None,
    next_path: Annotated[str, QueryParameter(name="next")] = "/ops",
) -> Template:
    return Template(
        template_name="staff/ops_login.html",
        context={"error": error, "next": _local_path(next_path)},
        headers=PAGE_HEADERS,
    )


@post(SIGN_IN_PATH, include_in_schema=False, status_code=303)
async def login(
    request: Request[Any, Any, Any],
    gate: NamedDependency[Gate],
    settings: NamedDependency[Settings],
    access_limits: NamedDependency[AccessLimits],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    if from_another_site(request):  # login CSRF: no other site signs a browser in as staff
        raise CsrfRefused("This form must be sent from Gourmet's own sign-in page.")
    target = _local_path(data.get("next", "/ops"))
    address = client_of(request, access_limits)
    throttle = access_limits.throttle
    # The staff token is far too long to guess: no count over all addresses, which could only
    # lock the staff out; per address, as for any account.
    await throttle.attempt(STAFF_SIGN_IN, address, known_device=True)
    if not token_matches(data.get("token", ""), gate.staff_token):
        return Redirect(f"{SIGN_IN_PATH}?error=1&next={target}", status_code=303)
    await throttle.succeeded(STAFF_SIGN_IN, address)
    response = Redirect(target, status_code=303)
    response.set_cookie(
        STAFF_COOKIE,
        gate.staff_token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=settings.security.cookie_secure,
        path="/",
    )
    return response


ROUTES: list[ControllerRouterHandler] = [
    kitchen_board,
    phone_order_page,
    manage_page,
    reports_page,
    staff_accounts_page,
    past_orders_page,
    plotly_js,
    login_page,
    login,
    Router(path="/ops", route_handlers=[ops_page], guards=[require_staff]),
]
