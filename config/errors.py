"""Domain errors: every refusal carries a stable `code` and an HTTP status, mapped to RFC 9457 in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request the domain refuses; subclasses fix `code`, `status` and `title`."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 422
    title: ClassVar[str] = "The request was refused"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "You may not do this"


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    title = "Sign in first"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    title = "The input is not valid"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The request conflicts with the current state"
