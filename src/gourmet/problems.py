"""RFC 9457 problem details: every error Gourmet returns says what is wrong and what to do.

Any layer raises a specific :class:`Problem` subclass: a plain exception that knows its status,
a stable type slug, a title and the fields a program needs. Nothing here knows HTTP frameworks;
``http_errors.py`` turns problems (and the framework's own errors) into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Problem(Exception):  # noqa: N818 - named after the RFC's concept
    """A client-facing error. Subclasses set the status, a stable type slug and a title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}
        # Instance copies of the class defaults, so framework errors can reuse this class.
        self.status_code = self.status
        self.type_slug = self.slug
        self.type_title = self.title

    @classmethod
    def from_http(cls, status: int, detail: str, **extra: Any) -> Problem:
        """A problem for a framework-level HTTP error (routing, body size, parsing)."""
        problem = cls(detail, **extra)
        problem.status_code = status
        problem.type_slug = _HTTP_SLUGS.get(status, f"http-{status}")
        problem.type_title = _HTTP_TITLES.get(status, "Request refused")
        return problem

    def body(self, instance: str) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.type_slug}",
            "title": self.type_title,
            "status": self.status_code,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Credentials required"


class ServiceUnavailable(Problem):
    status = 503
    slug = "service-unavailable"
    title = "Temporarily unavailable"

    def __init__(self, detail: str, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.headers["Retry-After"] = str(retry_after_s)


_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "body-too-slow",
    413: "body-too-large",
    415: "unsupported-media-type",
    500: "internal-error",
}
_HTTP_TITLES = {
    400: "Bad request",
    401: "Credentials required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request body too slow",
    413: "Request body too large",
    415: "Unsupported media type",
    500: "Internal error",
}
