"""Who may call what: accounts with a role, and the shared staff token.

Roles are ordered: customer < staff < manager < admin; ``require_role(minimum)`` admits an account
whose role is at least ``minimum``. Browsers carry an account's session in the ``gourmet_session``
cookie (HttpOnly, SameSite=Lax).

The shared staff token predates accounts and still works, as the admin role: programs send
``Authorization: Bearer <token>``, and browsers that signed in with it at /ops/login carry it in
the ``gourmet_staff`` cookie (HttpOnly, SameSite=Strict).

A state-changing request authenticated by either cookie must also carry
``X-Requested-With: gourmet``: a header another site cannot add to a cross-site request without a
CORS preflight, which Gourmet never grants, so a forged form post is refused (CSRF).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gourmet.accounts.errors import Forbidden
from gourmet.accounts.schemas import AccountView, Role
from gourmet.accounts.service import AccountService
from gourmet.problems import Problem, Unauthorized

STAFF_COOKIE = "gourmet_staff"
SESSION_COOKIE = "gourmet_session"
GATE = "gate"  # the name of the Gate dependency
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "gourmet"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLE_RANK: Final[dict[str, int]] = {"customer": 0, "staff": 1, "manager": 2, "admin": 3}

Connection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[Connection, BaseRouteHandler], Awaitable[None]]


class CsrfRefused(Problem):
    status = 403
    slug = "csrf"
    title = "Request refused"


def token_matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


def at_least(role: str, minimum: Role) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[minimum]


def from_another_site(connection: Connection) -> bool:
    """Whether the browser says the request was made by another site's page. Every current
    browser sends ``Sec-Fetch-Site``: anything but same-origin (or typed by the user) is
    another site, a sibling subdomain included. Older ones send only ``Origin``, compared with
    the host asked (a proxy in front must pass ``Host`` through, as HAProxy and Kubernetes
    ingresses do). Clients that are not browsers send neither."""
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = connection.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != connection.headers.get("host", "").lower()


def from_our_pages(connection: Connection) -> bool:
    """A write Gourmet's own scripts made: the custom header, which no other site can add
    without a CORS preflight Gourmet never grants, and no sign of another site."""
    return connection.headers.get(CSRF_HEADER) == CSRF_VALUE and not from_another_site(connection)


def check_csrf(connection: Connection) -> None:
    """Refuse a cookie-authenticated write that did not come from Gourmet's own pages."""
    method = connection.scope.get("method", "GET")
    if method not in SAFE_METHODS and not from_our_pages(connection):
        raise CsrfRefused("This request must come from Gourmet's own pages.")


@dataclass(frozen=True)
class Gate:
    """What a request's credentials are checked against: the shared staff token and the
    accounts' sessions. Built once per process; guards and handlers receive it by injection
    (the ``gate`` dependency)."""

    staff_token: str
    accounts: AccountService

    def bearer_is_staff_token(self, connection: Connection) -> bool:
        scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token_matches(presented, self.staff_token)

    def cookie_is_staff_token(self, connection: Connection) -> bool:
        cookie = connection.cookies.get(STAFF_COOKIE)
        return cookie is not None and token_matches(cookie, self.staff_token)

    async def session_account(self, connection: Connection) -> AccountView | None:
        """The account of the request's session cookie, while that session lasts."""
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        return await self.accounts.session_account(token)

    async def session_account_writing(self, connection: Connection) -> AccountView | None:
        """The session's account for a write, only if the request came from Gourmet's own
        pages (the CSRF header): a forged cross-site post is treated as a guest's."""
        if not from_our_pages(connection):
            return None
        return await self.session_account(connection)

    async def actor(self, connection: Connection) -> str:
        """Who is acting, from the request's credentials (never from what it says of itself):
        the signed-in account's email, or "staff token" for the shared token, which names
        nobody."""
        if self.bearer_is_staff_token(connection) or self.cookie_is_staff_token(connection):
            return "staff token"
        account = await self.session_account(connection)
        return account.email if account is not None else "anonymous"

    async def signed_in(self, connection: Connection) -> AccountView:
        """The signed-in account, or 401."""
        account = await self.session_account(connection)
        if account is None:
            raise Unauthorized("Sign in first (POST /api/session).")
        return account

    async def has_role(self, connection: Connection, minimum: Role) -> bool:
        """For pages (GET): a staff-token cookie, or a session whose account has ``minimum``."""
        if self.cookie_is_staff_token(connection) or self.bearer_is_staff_token(connection):
            return True
        account = await self.session_account(connection)
        return account is not None and at_least(account.role, minimum)

    async def admit(self, connection: Connection, minimum: Role) -> None:
        """Return if the request may act with the role ``minimum``; raise the problem if not."""
        if self.bearer_is_staff_token(connection):
            return
        if self.cookie_is_staff_token(connection):
            check_csrf(connection)
            return
        account = await self.session_account(connection)
        if account is not None:
            check_csrf(connection)
            if not at_least(account.role, minimum):
                raise Forbidden(f"This needs the {minimum} role; your account is {account.role}.")
            return
        problem = Unauthorized(
            "Sign in (POST /api/session) with an account of the right role, or send "
            "'Authorization: Bearer <staff token>' (see README, Accounts and roles)."
        )
        problem.headers["WWW-Authenticate"] = 'Bearer realm="gourmet-staff"'
        raise problem


async def gate_of(handler: BaseRouteHandler) -> Gate:
    """The ``gate`` dependency, for guards: Litestar injects into handlers, not guards, so a
    guard asks the handler's own dependency providers (the app registers ``gate``)."""
    provide = handler.resolve_dependencies().get(GATE)
    gate = await provide() if provide is not None else None
    if not isinstance(gate, Gate):
        raise TypeError(f"the app must provide the {GATE!r} dependency (a Gate)")
    return gate


def require_role(minimum: Role) -> Guard:
    """A guard admitting the staff token (as admin) or a session of at least ``minimum``."""

    async def guard(connection: Connection, handler: BaseRouteHandler) -> None:
        await (await gate_of(handler)).admit(connection, minimum)

    guard.__name__ = f"require_{minimum}"
    return guard


require_staff = require_role("staff")
