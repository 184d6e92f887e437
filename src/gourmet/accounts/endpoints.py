"""HTTP for accounts: sign up, sign in and out, the signed-in account, admins creating staff."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from gourmet.accounts.errors import WrongCredentials
from gourmet.accounts.guards import SESSION_COOKIE, check_csrf, require_role, session_account
from gourmet.accounts.schemas import AccountView, NewStaffAccount, SignIn, SignUp
from gourmet.accounts.service import AccountService
from gourmet.accounts.throttle import SignInThrottle
from gourmet.ordering.schemas import OrderView
from gourmet.problems import Unauthorized

TAGS = ["accounts"]


def accounts(state: State) -> AccountService:
    service: AccountService = state.accounts
    return service


def signed_in(
    state: State, account: AccountView, token: str, status_code: int
) -> Response[AccountView]:
    """The account, with its session cookie. Lax, not Strict: a customer following a link to
    the site from an email is still signed in; cross-site writes never carry it."""
    response = Response(account, status_code=status_code)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(state.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=state.settings.cookie_secure,
        path="/",
    )
    return response


async def current(request: Request[Any, Any, Any]) -> AccountView:
    account = await session_account(request)
    if account is None:
        raise Unauthorized("Sign in first (POST /api/session).")
    return account


@post(
    "/api/accounts", summary="Sign up as a customer (and be signed in)", tags=TAGS, status_code=201
)
async def sign_up(state: State, data: JSONBody[SignUp]) -> Response[AccountView]:
    account, token = await accounts(state).sign_up(data.email, data.password, data.name)
    return signed_in(state, account, token, 201)


@post(
    "/api/session", summary="Sign in: sets the gourmet_session cookie", tags=TAGS, status_code=200
)
async def sign_in(
    request: Request[Any, Any, Any], state: State, data: JSONBody[SignIn]
) -> Response[AccountView]:
    throttle: SignInThrottle = state.signin_throttle
    host = request.client.host if request.client else "unknown"
    # Per address (one client guessing many accounts) and per account (many addresses guessing
    # one); the address count is not reset by a success, or signing into one's own account
    # would buy more guesses at others.
    keys = (f"addr:{host}", f"email:{data.email.strip().lower()}")
    for key in keys:
        throttle.check(key)
    try:
        account, token = await accounts(state).sign_in(data.email, data.password)
    except WrongCredentials:
        for key in keys:
            throttle.failed(key)
        raise
    throttle.succeeded(keys[1])
    return signed_in(state, account, token, 200)


@delete("/api/session", summary="Sign out: ends the session", tags=TAGS, status_code=204)
async def sign_out(request: Request[Any, Any, Any], state: State) -> Response[None]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        check_csrf(request)
        await accounts(state).sign_out(token)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/api/me", summary="The signed-in account", tags=TAGS)
async def me(request: Request[Any, Any, Any]) -> AccountView:
    return await current(request)


@get("/api/me/orders", summary="The signed-in customer's orders, newest first", tags=TAGS)
async def my_orders(request: Request[Any, Any, Any], state: State) -> list[OrderView]:
    account = await current(request)
    return await accounts(state).orders(account.id)


@post("/accounts", summary="Create a staff, manager or admin account", tags=TAGS, status_code=201)
async def create_account(state: State, data: JSONBody[NewStaffAccount]) -> AccountView:
    return await accounts(state).create_account(data.email, data.password, data.name, data.role)


ROUTES: list[ControllerRouterHandler] = [
    sign_up,
    sign_in,
    sign_out,
    me,
    my_orders,
    Router(
        path="/api/admin",
        route_handlers=[create_account],
        guards=[require_role("admin")],
        tags=["accounts"],
    ),
]
