"""What every page shares: who is looking, in which language, the form token, and the layout's context."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import DomainError, ErrorCode, NotAuthenticated
from infra.http import SESSION_COOKIE, bearer_or_cookie
from infra.settings import Settings
from infra.time import local_datetime
from people import service as people
from people.actor import Actor
from web.i18n import LANGUAGES, Speaker, chosen
from web.refusals import CsrfFailed, FormInvalid, field_of, message_for, message_of

LANG_COOKIE = "lang"
CSRF_COOKIE = "allmenning_csrf"
CSRF_FIELD = "csrf_token"
YEAR = 365 * 24 * 3600


async def provide_viewer(request: Request, db: Db, now: datetime) -> Actor | None:
    """The signed-in person, or None: public pages are for everyone."""
    token = bearer_or_cookie(request)
    viewer = await people.authenticate(db, token, now=now) if token else None
    return await follow_language_switch(request, db, viewer, now=now)


async def follow_language_switch(request: Request, db: Db, viewer: Actor | None, *, now: datetime) -> Actor | None:
    """A signed-in person who switches the pages' language gets their mail in it too: one choice, not two to find."""
    asked = request.query_params.get("lang")
    if viewer is None or asked not in LANGUAGES or asked == viewer.language:
        return viewer
    await people.update_me(db, viewer, language=asked, now=now)
    return replace(viewer, language=asked)


def signed_in(viewer: Actor | None) -> Actor:
    if viewer is None:
        raise NotAuthenticated()
    return viewer


def language_of(request: Request, viewer: Actor | None) -> str:
    """A language asked for in the address wins, then the one chosen before, then the person's own, then bokmål."""
    return chosen(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), viewer.language if viewer else None)


def csrf_secret(request: Request) -> str:
    """A random value in a cookie that a cross-site page can neither read nor set (made on first need)."""
    secret = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not secret:
        secret = request.state.new_csrf = secrets.token_urlsafe(24)
    return secret


def form_token(secret: str, session: str) -> str:
    """The token a form carries: bound to the session when signed in, so a cookie and token planted from a
    neighbouring site (without the victim's session) prove nothing."""
    return hmac.new(secret.encode(), session.encode(), hashlib.sha256).hexdigest() if session else secret


def csrf_token(request: Request) -> str:
    return form_token(csrf_secret(request), request.cookies.get(SESSION_COOKIE, ""))


def page_cookies(request: Request, settings: Settings) -> list[Cookie]:
    cookies = []
    secure = settings.base_url.startswith("https://")
    if new := getattr(request.state, "new_csrf", None):
        cookies.append(Cookie(key=CSRF_COOKIE, value=new, httponly=True, samesite="strict", secure=secure, path="/"))
    if (asked := request.query_params.get("lang")) in LANGUAGES and asked != request.cookies.get(LANG_COOKIE):
        cookies.append(Cookie(key=LANG_COOKIE, value=asked, max_age=YEAR, samesite="lax", secure=secure, path="/"))
    return cookies


def render(request: Request, settings: Settings, viewer: Actor | None, name: str, status: int = 200, **context: Any) -> Template:
    """A page in the viewer's language with the layout's context; errors and values refill a form."""
    speak = Speaker(language_of(request, viewer))
    context = {
        "_": speak,
        "speak": speak,
        "lang": speak.language,
        "viewer": viewer,
        "csrf": csrf_token(request),
        "path": request.url.path,
        "errors": {},
        "values": {},
        "refusal_message": message_for,
        **context,
    }
    return Template(template_name=name, context=context, status_code=status, cookies=page_cookies(request, settings))


async def posted(request: Request) -> dict[str, str]:
    """The form's fields, once its token proves it came from one of our pages."""
    form = await request.form()
    sent, kept = str(form.get(CSRF_FIELD, "")), request.cookies.get(CSRF_COOKIE, "")
    expected = form_token(kept, request.cookies.get(SESSION_COOKIE, ""))
    if not kept or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()
    return {key: str(value).strip() for key, value in form.items() if key != CSRF_FIELD}


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)


def error_map(error: DomainError, default_field: str = "form") -> dict[str, str]:
    return {field_of(error, default_field): message_of(error)}


def sign_in_path(request: Request) -> str:
    return "/sign-in?next=" + quote(request.url.path)


# ---------------------------------------------------------------- reading form values


def day_value(form: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, ""))
    except ValueError:
        raise FormInvalid(ErrorCode.INVALID_DATE, name) from None


def clock_value(form: dict[str, str], name: str) -> time:
    try:
        return time.fromisoformat(form.get(name, ""))
    except ValueError:
        raise FormInvalid(ErrorCode.INVALID_TIME, name) from None


def moment_value(form: dict[str, str], day_field: str, clock_field: str) -> datetime:
    """A wall-clock time in Oslo from a date field and a time field."""
    return local_datetime(day_value(form, day_field), clock_value(form, clock_field))


def number_value(form: dict[str, str], name: str, *, default: int | None = None) -> int | None:
    raw = form.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, name) from None
