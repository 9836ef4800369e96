"""The error answers of every API operation, documented in OpenAPI as RFC 9457 problem details with their `code`."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

PROBLEM = "application/problem+json"


class Problem(msgspec.Struct):
    """RFC 9457 problem details; `code` is stable (see `infra.errors.ErrorCode`), extension members may follow."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, description=description, media_type=PROBLEM, generate_examples=False)


EVERY = {400: "The request could not be read", 422: "The input is not valid, or a rule refused it", 500: "Something went wrong"}
SIGNED_IN = {401: "Sign in first", 403: "You may not do this"}
NAMED = {404: "Nothing has this id"}
WRITES = {409: "The request conflicts with the current state (e.g. the slot is taken)"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def problem_statuses(handler: HTTPRouteHandler) -> dict[int, str]:
    """What can go wrong for this operation: reading it, who asks, what it names, and what it writes."""
    found = dict(EVERY)
    parameters = inspect.signature(handler.fn).parameters
    if "actor" in parameters:
        found |= SIGNED_IN
    if handler.http_methods & UNSAFE:
        found |= WRITES | NAMED  # a write's body may name what it refers to (a resource, a location) that is not there
    elif any("{" in path for path in handler.paths) or any(name.endswith("_id") for name in parameters):
        found |= NAMED  # a read names what it is of in its path or by a query's id (`?resource_id=`)
    return found


def document_problems(handlers: Iterable[HTTPRouteHandler]) -> None:
    """Give each operation its problem answers, keeping any response it documents itself."""
    for handler in handlers:
        documented = {status: _spec(text) for status, text in problem_statuses(handler).items()}
        handler.responses = {**documented, **(handler.responses or {})}
