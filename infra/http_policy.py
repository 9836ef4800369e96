"""What every answer says about itself (security headers), and what no request may bring: a forged cookie write, a NUL."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from infra.errors import ErrorCode, problem_document
from infra.http import SESSION_COOKIE

# The pages load nothing but their own stylesheet and images and run no script; nobody may frame them.
PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
HEADERS = {
    "content-security-policy": PAGE_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _signed_by_cookie(scope: Scope) -> bool:
    """A browser's session rides along on any request to us; a bearer token is sent only on purpose."""
    if _header(scope, b"authorization").lower().startswith("bearer "):
        return False
    return f"{SESSION_COOKIE}=" in _header(scope, b"cookie")


def cross_site_refusal(scope: Scope, base_url: str) -> str | None:
    """Why an API write signed only by the session cookie may be a forgery, or None: it must be JSON (a form or
    text/plain can be posted by any site) and, where the browser says where it comes from, come from here."""
    if scope["type"] != "http" or scope["method"] not in UNSAFE or not scope["path"].startswith("/api/"):
        return None
    if not _signed_by_cookie(scope):
        return None
    if _header(scope, b"sec-fetch-site") in ("cross-site", "same-site"):
        return "The request comes from another site"
    origin = _header(scope, b"origin")
    host = _header(scope, b"host")
    if origin and _origin_of(origin) not in (_origin_of(base_url), f"{scope.get('scheme', 'http')}://{host}".lower()):
        return "The request comes from another site"
    kind = _header(scope, b"content-type")
    has_body = _header(scope, b"content-length") not in ("", "0") or bool(_header(scope, b"transfer-encoding"))
    if (kind or has_body) and not kind.startswith("application/json"):
        return "Send JSON (application/json) when signed in by the session cookie"
    return None


# A NUL is text in no language and PostgreSQL stores it in no text column: refused in any field, raw or escaped
# (`\u0000` in JSON, `%00` where the input is URL-encoded: a query string or a form).
JSON_NUL, URL_NUL = (b"\x00", b"\\u0000"), (b"\x00", b"%00")


def holds_nul(data: bytes, *, url_encoded: bool) -> bool:
    lowered = data.lower()
    return any(form in lowered for form in (URL_NUL if url_encoded else JSON_NUL))


async def _body_of(receive: Receive) -> list[Message]:
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body"):
        messages.append(await receive())
    return messages


class RequestGuard:
    """ASGI middleware before every route: a cookie-signed API write that may be forged, or input holding a NUL,
    is refused with a problem before any work is done on it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        base_url = scope["app"].state.settings.base_url  # read per request: tests swap the settings between runs
        if reason := cross_site_refusal(scope, base_url):
            await _refuse(send, 403, ErrorCode.CROSS_SITE_REQUEST, reason)
            return
        if scope["type"] == "http" and holds_nul(scope.get("query_string", b""), url_encoded=True):
            await _refuse(send, 422, ErrorCode.INVALID_INPUT, "The input holds a NUL character")
            return
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        messages = await _body_of(receive)
        form = _header(scope, b"content-type").startswith("application/x-www-form-urlencoded")
        if holds_nul(b"".join(m.get("body", b"") for m in messages), url_encoded=form):
            await _refuse(send, 422, ErrorCode.INVALID_INPUT, "The input holds a NUL character")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook: every answer, routed or not (a 404 too), says how browsers must treat it."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if scope.get("scheme") == "https" or scope["app"].state.settings.base_url.startswith("https://"):
        headers.setdefault("strict-transport-security", HSTS)


async def _refuse(send: Send, status: int, code: ErrorCode, reason: str) -> None:
    # The security headers are added on the way out by `add_security_headers`, as for every other answer.
    body = json.dumps(problem_document(status, code, reason)).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
