"""The staff credential: ``Authorization: Bearer <token>`` compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gourmet.problems import Unauthorized


def require_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    expected: str = connection.app.state.staff_token
    scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        problem = Unauthorized(
            "Staff endpoints need 'Authorization: Bearer <staff token>' (see README, Staff access)."
        )
        problem.headers["WWW-Authenticate"] = 'Bearer realm="gourmet-staff"'
        raise problem
