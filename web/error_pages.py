"""Errors a browser meets, as pages in the reader's language with a way on; callers of the API keep problem details."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from litestar import Request, Response, post
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import DomainError, ErrorCode
from infra.settings import Settings
from people import service as people
from people.actor import Actor
from web.frame import language_of, posted, render, see_other
from web.refusals import N_, message_for

log = logging.getLogger("allmenning")
Handler = Callable[[Request, Any], Response]

# What a page says beyond the refusals' own sentences (web/refusals.py), by the problem's code.
SAID = {
    ErrorCode.METHOD_NOT_ALLOWED: N_("This page cannot do what was asked of it. Go back and try again."),
    ErrorCode.INTERNAL_ERROR: N_("Something went wrong on our side. Please try again in a little while."),
}
HEADINGS = {400: N_("Not possible"), 404: N_("Page not found"), 500: N_("Something went wrong")}
NO_TRACE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # the page carries a sign-in link's token
BROWSER = "text/html"


def wants_page(request: Request) -> bool:
    """A browser reading a page: it asks for HTML before JSON, and not under /api/ (whose callers get JSON)."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return False
    return request.accept.best_match(["application/problem+json", "application/json", BROWSER]) == BROWSER


def heading_for(status: int) -> str:
    return HEADINGS.get(status, HEADINGS[500] if status >= 500 else HEADINGS[400])


def error_page(request: Request, viewer: Actor | None, status: int, code: str, **context: Any) -> Template:
    """The error page: what went wrong in a sentence, and a way on (the front page, or a new sign-in link)."""
    settings = request.app.state.settings
    message = SAID.get(code) or message_for(code)  # type: ignore[arg-type]
    page = {"heading": heading_for(status), "message": message, "new_link": "", "token": "", **context}
    return render(request, settings, viewer, "error.html", status=status, **page)


def refusal_page(request: Request, refusal: DomainError) -> Template:
    return error_page(request, None, refusal.status, refusal.code)


async def dead_link_page(request: Request, db: Db, viewer: Actor | None, token: str) -> Template:
    """A used, replaced or expired sign-in link: a button sends a new one to its address, which the page never shows."""
    known = bool(token) and await people.signin_link_was_made(db, token)
    heading = N_("This sign-in link does not work any more")
    shown = {"new_link": "form", "token": token} if known else {"new_link": "page"}  # else: the sign-in form
    answer = error_page(request, viewer, 400, ErrorCode.SIGNIN_LINK_INVALID, heading=heading, **shown)
    answer.headers.update(NO_TRACE)
    return answer


@post("/sign-in/again", name="send_sign_in_again")
async def send_again(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    """The dead link page's button: a new link to the old link's address, or the sign-in form if it is not known."""
    form = await posted(request)
    client = request.client.host if request.client else ""
    language = language_of(request, viewer)
    try:
        outcome = await people.send_signin_link_again(db, settings, form.get("token", ""), now=now, language=language, client=client)
    except DomainError as refusal:  # too many links asked for: said, with when to come back
        answer = error_page(request, viewer, refusal.status, refusal.code)
        if isinstance(retry_after := refusal.extra.get("retry_after"), int):
            answer.headers["Retry-After"] = str(retry_after)
        return answer
    if outcome is None:
        return see_other("/sign-in")
    return see_other("/sign-in/sent" + ("?delayed=1" if outcome == people.SigninOutcome.QUEUED else ""))


# ---------------------------------------------------------------- errors met before or outside a page's route


def for_browsers(handlers: Mapping[type, Handler]) -> dict[type, Handler]:
    """The app's exception handlers, each answering a browser with a page instead of its problem details."""
    return {kind: browser_aware(handler) for kind, handler in handlers.items()}


def browser_aware(handler: Handler) -> Handler:
    def handle(request: Request, exc: Any) -> Response:
        answer = handler(request, exc)  # logs what must be logged, and decides the status and code
        problem = answer.content if isinstance(answer.content, dict) else {}
        if not wants_page(request) or "code" not in problem:
            return answer
        return page_instead(request, answer, problem["code"])

    return handle


def page_instead(request: Request, answer: Response, code: str) -> Response:
    """The problem as a page, rendered here so that a page that cannot be made still leaves the problem details."""
    try:
        template = error_page(request, None, answer.status_code, code)
        html = request.app.template_engine.get_template(template.template_name).render(**template.context)
    except Exception:  # an error page must never turn one error into another
        log.exception("error page for %s %s could not be made", request.method, request.url.path)
        return answer
    kept = {k: v for k, v in answer.headers.items() if k.lower() in ("allow", "retry-after")}
    return Response(html, status_code=answer.status_code, media_type="text/html", headers=kept, cookies=template.cookies)


ROUTES = [send_again]
