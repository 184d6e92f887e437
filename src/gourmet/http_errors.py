"""Problems as HTTP responses: RFC 9457 ``application/problem+json``.

The handlers turn a :class:`~gourmet.problems.Problem` and the framework's own HTTP errors
(malformed JSON, body too large, unknown route) into problem responses; so is text PostgreSQL
cannot store (a NUL character: 422) and JSON nested too deeply to decode (400). Anything else
unexpected stays a 500, still a problem body, and is logged with its traceback.
"""

from __future__ import annotations

from typing import Any

import psycopg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from gourmet.problems import Problem, ServiceUnavailable
from gourmet.resilience.deadline import DeadlineExceeded
from gourmet.telemetry import metrics

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("gourmet.errors")
# SQLSTATEs of text the database cannot store: untranslatable character, not in repertoire.
_UNSTORABLE_TEXT = frozenset({"22P05", "22021"})


class UnstorableText(Problem):
    status = 422
    slug = "unstorable-text"
    title = "Text that cannot be stored"


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


def handle_data_error(request: Request[Any, Any, Any], exc: psycopg.DataError) -> Response[Any]:
    """Text PostgreSQL cannot store: psycopg refuses a NUL character before sending it (no
    SQLSTATE), the server refuses characters it cannot encode. The transaction rolled back."""
    if exc.sqlstate in _UNSTORABLE_TEXT or (exc.sqlstate is None and "NUL" in str(exc)):
        return problem_response(
            request,
            UnstorableText(
                "A text field contains a NUL character (or another character we cannot "
                "store); nothing was saved. Remove it and try again."
            ),
        )
    return handle_unexpected(request, exc)


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    return problem_response(
        request, Problem.from_http(400, "The request body is nested too deeply to read.")
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: logged with its traceback, answered as a problem like every other error."""
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    problem = Problem.from_http(500, "Something went wrong on our side. Please try again.")
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
    psycopg.DataError: handle_data_error,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
