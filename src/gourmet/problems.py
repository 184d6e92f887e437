"""RFC 9457 problem details: every error Gourmet returns says what is wrong and what to do.

Domain code raises a specific :class:`Problem` subclass; the handlers here turn it, and the
framework's own HTTP errors (malformed JSON, body too large, unknown route), into
``application/problem+json`` responses. Unexpected exceptions are not caught here: they stay 500s.
"""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from gourmet.observability import metrics

PROBLEM_MEDIA_TYPE = "application/problem+json"


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


def problem_response(request: Request[Any, Any, Any], problem: Problem) -> Response[Any]:
    return Response(
        content=problem.body(request.url.path),
        status_code=problem.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}
_HTTP_TITLES = {
    400: "Bad request",
    401: "Credentials required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
}


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    return problem_response(request, exc)


def handle_deadline_exceeded(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The request's time ran out before its work could start: nothing was done."""
    metrics.DEADLINE_EXPIRED.inc()
    return problem_response(
        request,
        ServiceUnavailable(
            "We could not get to your request in time; nothing was changed. Please retry.",
            retry_after_s=1,
        ),
    )


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Malformed JSON and schema violations: say which field is wrong and why."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    detail = exc.detail or "The request is not valid."
    if errors:
        first = errors[0]
        detail = f"{first.get('message', 'invalid value')} (at {first.get('key', 'body')})"
    return problem_response(
        request, Problem.from_http(400, detail, errors=[_clean(e) for e in errors])
    )


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 413:
        detail = "The request body is larger than this endpoint accepts."
    elif exc.status_code == 400:
        # Litestar raises a plain 400 when the body cannot be decoded at all.
        detail = f"The request body is not valid JSON ({exc.detail})."
    else:
        detail = exc.detail
    problem = Problem.from_http(exc.status_code, detail)
    problem.headers.update(exc.headers or {})
    return problem_response(request, problem)


def _clean(error: Any) -> Any:
    if isinstance(error, dict):
        return {k: v for k, v in error.items() if k in {"key", "message", "source"}}
    return str(error)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: handle_problem,
    ValidationException: handle_validation,
    HTTPException: handle_http,
}
