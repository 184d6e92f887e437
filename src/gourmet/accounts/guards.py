"""The staff credential, until accounts and roles land.

Programs send ``Authorization: Bearer <token>``. Browsers (the ops page) sign in once with the
token and then carry it in an HttpOnly, SameSite=Strict cookie. A state-changing request that is
authenticated by the cookie must also carry ``X-Requested-With: gourmet``: a header another site
cannot add to a cross-site request without a CORS preflight, which Gourmet never grants, so a
forged form post is refused (CSRF).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gourmet.problems import Problem, Unauthorized

STAFF_COOKIE = "gourmet_staff"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "gourmet"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Problem):
    status = 403
    slug = "csrf"
    title = "Request refused"


def token_matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


def require_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    expected: str = connection.app.state.staff_token
    scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(presented, expected):
        return
    cookie = connection.cookies.get(STAFF_COOKIE)
    if cookie is not None and token_matches(cookie, expected):
        method = connection.scope.get("method", "GET")
        if method not in SAFE_METHODS and connection.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise CsrfRefused("This request must come from Gourmet's own pages.")
        return
    problem = Unauthorized(
        "Staff endpoints need 'Authorization: Bearer <staff token>' (see README, Staff access)."
    )
    problem.headers["WWW-Authenticate"] = 'Bearer realm="gourmet-staff"'
    raise problem
