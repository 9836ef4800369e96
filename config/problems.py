"""One place that turns every refusal into RFC 9457 problem details with a stable `code`."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from infra.errors import DomainError, ErrorCode, problem_document

log = logging.getLogger("allmenning")
PROBLEM = "application/problem+json"

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.TOO_MANY_REQUESTS,
}


def problem(status: int, code: ErrorCode, title: str, detail: str | None = None, extra: dict[str, Any] | None = None) -> Response:
    return Response(content=problem_document(status, code, title, detail, extra), status_code=status, media_type=PROBLEM)


def on_domain_error(_: Request, exc: DomainError) -> Response:
    answer = problem(exc.status, exc.code, exc.title, exc.detail, exc.extra)
    if isinstance(retry_after := exc.extra.get("retry_after"), int):  # a rate limit says when to come back
        answer.headers["Retry-After"] = str(retry_after)
    return answer


def on_validation_error(_: Request, exc: ValidationException) -> Response:
    # Malformed input is unprocessable content, not a bad request: 422 with each field at fault.
    errors = exc.extra if isinstance(exc.extra, list) else []
    return problem(422, ErrorCode.INVALID_INPUT, "The input is not valid", str(exc.detail), {"errors": errors})


def on_http_error(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    code = ErrorCode.NOT_AUTHENTICATED if isinstance(exc, NotAuthorizedException) else _HTTP_CODES.get(status, ErrorCode.HTTP_ERROR)
    answer = problem(status, code, exc.detail or "Request failed")
    if allow := (exc.headers or {}).get("allow"):  # a 405 says which methods the path does take
        answer.headers["allow"] = allow
    return answer


def on_nested_too_deep(_: Request, exc: RecursionError) -> Response:
    # Only decoding a request body recurses without bound here: the JSON is nested deeper than anyone writes.
    return problem(400, ErrorCode.BAD_REQUEST, "The JSON is nested too deep")


def is_out_of_range(exc: BaseException | None) -> bool:
    """An id or count no column can hold (SQLite: 64 bits, PostgreSQL: 32), however the driver wrapped it."""
    while exc is not None:
        if isinstance(exc, (OverflowError, DataError)) or type(exc).__name__ == "DataError":
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def on_database_error(request: Request, exc: DBAPIError) -> Response:
    if is_out_of_range(exc):
        return on_number_out_of_range(request, exc)
    if isinstance(exc, IntegrityError):
        # The database refused a write the services let through (a dangling reference, a twin insert):
        # nothing was written; say so as a conflict, and log it, since a service should have caught it.
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(409, ErrorCode.CONFLICT, "The request conflicts with the current state")
    return on_unexpected_error(request, exc)


def on_number_out_of_range(_: Request, exc: Exception) -> Response:
    return problem(422, ErrorCode.INVALID_INPUT, "The input is not valid", "A number is out of range")


def on_unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR, "Something went wrong on our side")


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    OverflowError: on_number_out_of_range,
    RecursionError: on_nested_too_deep,
    DBAPIError: on_database_error,
    Exception: on_unexpected_error,
}
