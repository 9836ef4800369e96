"""What every answer says about itself (security headers), and the same-origin rule for API writes signed by a cookie."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from infra.errors import ErrorCode
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
    if _header(scope, b"content-length") not in ("", "0") and not _header(scope, b"content-type").startswith("application/json"):
        return "Send JSON (application/json) when signed in by the session cookie"
    return None


class CrossSiteGuard:
    """ASGI middleware before every route: a cookie-signed API write that may be forged is refused with a problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        base_url = scope["app"].state.settings.base_url  # read per request: tests swap the settings between runs
        if reason := cross_site_refusal(scope, base_url):
            await _refuse(send, reason)
            return
        await self.app(scope, receive, send)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook: every answer, routed or not (a 404 too), says how browsers must treat it."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if scope.get("scheme") == "https" or scope["app"].state.settings.base_url.startswith("https://"):
        headers.setdefault("strict-transport-security", HSTS)


async def _refuse(send: Send, reason: str) -> None:
    code = ErrorCode.CROSS_SITE_REQUEST
    body = json.dumps({"type": f"about:blank#{code}", "title": reason, "status": 403, "code": code}).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
