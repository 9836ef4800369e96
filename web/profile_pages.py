"""My profile: name, address and language, and my private calendar feed (made, replaced or stopped, asking first)."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from infra.database import Db
from infra.errors import DomainError
from infra.i18n import NAMES
from infra.settings import Settings
from notifications import service as notifications
from people import service as people
from people.actor import Actor
from web.frame import error_map, posted, render, see_other, signed_in
from web.i18n import LANGUAGES
from web.pages import webcal

FIELDS = ("name", "street", "postal_code", "city", "language")


def language_names() -> list[tuple[str, str]]:
    """Each language in its own name, as the header's list says them, so a reader finds theirs in any page language."""
    return [(code, NAMES[code]) for code in LANGUAGES]


async def profile_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    new_feed: str | None = None,
) -> Template:
    person = await people.profile(db, actor)
    stored = {name: getattr(person, name) or "" for name in FIELDS}
    return render(
        request,
        settings,
        actor,
        "profile.html",
        status=status,
        person=person,
        errors=errors or {},
        values={**stored, **(values or {})},
        languages=language_names(),
        has_feed=new_feed is not None or await notifications.has_calendar_feed(db, actor.person_id),
        feed=new_feed and webcal(new_feed),  # only just made: the URL is not kept, so it is shown this once
        feed_https=new_feed,
        over_https=settings.base_url.startswith("https://"),
        done=request.query_params.get("done", ""),
    )


@get("/my/profile", name="my_profile")
async def show(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await profile_page(request, db, settings, signed_in(viewer))


@post("/my/profile", name="save_my_profile")
async def save(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    changes = {name: form.get(name, "") for name in FIELDS}
    try:
        person = await people.update_me(db, actor, now=now, **changes)
    except DomainError as refusal:
        return await profile_page(request, db, settings, actor, status=422, errors=error_map(refusal), values=form)
    # The pages follow the language just chosen (it becomes the page's own, as switching languages does).
    return see_other(f"/my/profile?done=saved&lang={person.language}")


@post("/my/calendar-feed", name="make_my_feed")
async def make_feed(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """Make (or replace) my feed URL and show it on the page this once: only its hash is kept."""
    actor = signed_in(viewer)
    await posted(request)
    url = await notifications.rotate_calendar_feed(db, settings, actor, now=now)
    return await profile_page(request, db, settings, actor, new_feed=url)


@get("/my/calendar-feed/revoke", name="confirm_revoke_feed")
async def confirm_revoke(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template | Redirect:
    """Stopping the link asks first: calendars that follow it stop showing the bookings."""
    actor = signed_in(viewer)
    if not await notifications.has_calendar_feed(db, actor.person_id):
        return see_other("/my/profile#calendar")
    return render(request, settings, actor, "feed_revoke.html")


@post("/my/calendar-feed/revoke", name="revoke_my_feed")
async def revoke(request: Request, db: Db, viewer: Actor | None, now: datetime) -> Redirect:
    actor = signed_in(viewer)
    await posted(request)
    await notifications.revoke_calendar_feed(db, actor, now=now)
    return see_other("/my/profile?done=feed_revoked#calendar")


ROUTES = [show, save, make_feed, confirm_revoke, revoke]
