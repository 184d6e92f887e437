"""Problems as HTTP responses: RFC 9457 ``application/problem+json``.

The handlers turn a :class:`~gourmet.problems.Problem` and the framework's own HTTP errors
(malformed JSON, body too large, unknown route) into problem responses. Unexpected exceptions are
not caught here: they stay 500s.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from gourmet.problems import Problem, ServiceUnavailable
from gourmet.resilience.deadline import DeadlineExceeded
from gourmet.telemetry import metrics

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(request: Request[Any, Any, Any], problem: Problem) -> Response[Any]:
    return Response(
        content=problem.body(request.url.path),
        status_code=problem.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


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
    DeadlineExceeded: handle_deadline_exceeded,
}
