"""The session cookie and bearer token as both HTTP layers (JSON API and pages) read and set them."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import Cookie

from infra.settings import Settings

SESSION_COOKIE = "allmenning_session"


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def session_cookie(settings: Settings, token: str, *, max_age: int, over_https: bool = False) -> Cookie:
    # Lax keeps the cookie off cross-site POSTs; Secure whenever the site is served, or this request came, over HTTPS.
    secure = over_https or settings.base_url.startswith("https://")
    return Cookie(key=SESSION_COOKIE, value=token, max_age=max_age, httponly=True, samesite="lax", secure=secure)


# Expiring the cookie needs no Secure flag: deleting it from an HTTPS answer works either way.
SIGNED_OUT = Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, samesite="lax")
