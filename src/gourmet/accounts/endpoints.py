"""HTTP for accounts: sign up, sign in and out, the signed-in account, admins creating staff."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import SESSION_COOKIE, Gate, check_csrf, require_role
from gourmet.accounts.limits import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_S, AccessLimits
from gourmet.accounts.schemas import (
    AccountView,
    NewPassword,
    NewStaffAccount,
    PasswordAgain,
    ResetAsked,
    RoleChange,
    SignIn,
    SignUp,
    Told,
)
from gourmet.accounts.service import RESET_ASKED, AccountService
from gourmet.config import Settings

TAGS = ["accounts"]


def signed_in(
    settings: Settings,
    limits: AccessLimits,
    account: AccountView,
    token: str,
    status_code: int,
) -> Response[AccountView]:
    """The account, with its session cookie. Lax, not Strict: a customer following a link to
    the site from an email is still signed in; cross-site writes never carry it. And the device
    cookie: this browser has signed in to this account (see throttle.py)."""
    response = Response(account, status_code=status_code)
    response.set_cookie(
        DEVICE_COOKIE,
        limits.devices.cookie_for(account.email),
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=settings.security.cookie_secure,
        path="/api/session",
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.security.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.security.cookie_secure,
        path="/",
    )
    return response


@post(
    "/api/accounts", summary="Sign up as a customer (and be signed in)", tags=TAGS, status_code=201
)
async def sign_up(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    settings: NamedDependency[Settings],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[SignUp],
) -> Response[AccountView]:
    check_csrf(request)  # no other site may sign a visitor up (or in) behind their back
    await access_limits.sign_ups.hit(client_of(request, access_limits))
    account, token = await accounts.sign_up(data.email, data.password, data.name)
    return signed_in(settings, access_limits, account, token, 201)


@post(
    "/api/session", summary="Sign in: sets the gourmet_session cookie", tags=TAGS, status_code=200
)
async def sign_in(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    settings: NamedDependency[Settings],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[SignIn],
) -> Response[AccountView]:
    # A cross-site form could otherwise sign the visitor into the attacker's account (login
    # CSRF), and what they then order or save would be the attacker's to read.
    check_csrf(request)
    throttle = access_limits.throttle
    email = data.email.strip().lower()
    address = client_of(request, access_limits)
    known = access_limits.devices.knows(request.cookies.get(DEVICE_COOKIE), email)
    # Counted as a failure before the password is checked, given back if it succeeds.
    await throttle.attempt(email, address, known_device=known)
    account, token = await accounts.sign_in(data.email, data.password)
    await throttle.succeeded(email, address)
    # A new session id at every sign-in, and the one this browser held ends server-side: a
    # session id planted before sign-in (fixation) or left behind is worth nothing after it.
    if previous := request.cookies.get(SESSION_COOKIE):
        await accounts.sign_out(previous)
    return signed_in(settings, access_limits, account, token, 200)


def client_of(request: Request[Any, Any, Any], limits: AccessLimits) -> str:
    peer = request.client.host if request.client else None
    return limits.client(peer, request.headers.get("x-forwarded-for"))


@delete("/api/session", summary="Sign out: ends the session", tags=TAGS, status_code=204)
async def sign_out(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]
) -> Response[None]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        check_csrf(request)
        await accounts.sign_out(token)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@post(
    "/api/me/delete",
    summary="Delete the signed-in customer's account, with its password: its orders stay in the"
    " books with the personal fields removed",
    tags=TAGS,
    status_code=204,
)
async def delete_my_account(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    gate: NamedDependency[Gate],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[PasswordAgain],
) -> Response[None]:
    check_csrf(request)
    account = await gate.signed_in(request)
    address = client_of(request, access_limits)
    await access_limits.throttle.attempt(account.email, address, known_device=True)
    await accounts.delete_account(account, data.password)
    await access_limits.throttle.succeeded(account.email, address)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@post(
    "/api/password-resets",
    summary="Forgot the password: email a link to choose a new one (the same answer whether"
    " the address has an account or not)",
    tags=TAGS,
    status_code=202,
)
async def ask_password_reset(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[ResetAsked],
) -> Told:
    check_csrf(request)
    await access_limits.resets.hit(client_of(request, access_limits))
    await accounts.ask_reset(data.email)
    return Told(RESET_ASKED)


@post(
    "/api/password-resets/use",
    summary="Choose a new password with a reset link's token: signs out every other session"
    " and signs this browser in",
    tags=TAGS,
    status_code=200,
)
async def use_password_reset(
    request: Request[Any, Any, Any],
    accounts: NamedDependency[AccountService],
    settings: NamedDependency[Settings],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[NewPassword],
) -> Response[AccountView]:
    check_csrf(request)
    await access_limits.resets.hit(client_of(request, access_limits))
    account, token = await accounts.reset_password(data.token, data.password)
    return signed_in(settings, access_limits, account, token, 200)


@get("/api/me", summary="The signed-in account", tags=TAGS)
async def me(request: Request[Any, Any, Any], gate: NamedDependency[Gate]) -> AccountView:
    return await gate.signed_in(request)


@post("/accounts", summary="Create a staff, manager or admin account", tags=TAGS, status_code=201)
async def create_account(
    accounts: NamedDependency[AccountService], data: JSONBody[NewStaffAccount]
) -> AccountView:
    return await accounts.create_account(data.email, data.password, data.name, data.role)


@get("/accounts", summary="The staff, manager and admin accounts", tags=TAGS)
async def list_staff(accounts: NamedDependency[AccountService]) -> list[AccountView]:
    return await accounts.staff_accounts()


@patch("/accounts/{account_id:int}", summary="Change a staff account's role", tags=TAGS)
async def change_role(
    accounts: NamedDependency[AccountService],
    account_id: FromPath[int],
    data: JSONBody[RoleChange],
) -> AccountView:
    return await accounts.change_role(account_id, data.role)


@delete(
    "/accounts/{account_id:int}",
    summary="Remove a staff account (never the last admin); its sessions end",
    tags=TAGS,
    status_code=204,
)
async def remove_account(
    accounts: NamedDependency[AccountService], account_id: FromPath[int]
) -> None:
    await accounts.remove_account(account_id)


ROUTES: list[ControllerRouterHandler] = [
    sign_up,
    sign_in,
    sign_out,
    me,
    ask_password_reset,
    use_password_reset,
    delete_my_account,
    Router(
        path="/api/admin",
        route_handlers=[create_account, list_staff, change_role, remove_account],
        guards=[require_role("admin")],
        tags=["accounts"],
    ),
]
