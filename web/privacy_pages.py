"""The privacy page (its periods from the same settings retention keeps to), and erasing one's own account, asked first."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Request, get, post
from litestar.response import Template

from infra.database import Db
from infra.errors import DomainError
from infra.i18n import N_
from infra.settings import Settings
from oversight import rights
from oversight.retention import periods_of
from people.actor import Actor
from web.frame import language_of, posted, render, signed_in
from web.i18n import Speaker
from web.refusals import message_of

YEAR = 365


def span_words(period: timedelta, speak: Speaker) -> str:
    """A period as the page says it: in years when it is whole years, else in days."""
    days = period.days
    if days % YEAR == 0:
        years = days // YEAR
        return speak(N_("one year")) if years == 1 else speak(N_("{count} years"), count=years)
    return speak(N_("one day")) if days == 1 else speak(N_("{count} days"), count=days)


def said_periods(settings: Settings, speak: Speaker) -> dict[str, str]:
    periods = periods_of(settings)
    return {name: span_words(getattr(periods, name), speak) for name in periods.__dataclass_fields__}


@get("/privacy", name="privacy")
async def privacy(request: Request, settings: Settings, viewer: Actor | None) -> Template:
    """What is stored, why, for how long and how to get or erase it; for everyone, signed in or not."""
    speak = Speaker(language_of(request, viewer))
    return render(request, settings, viewer, "privacy.html", periods=said_periods(settings, speak))


@get("/my/erase", name="confirm_erase_me")
async def confirm_erase(request: Request, settings: Settings, viewer: Actor | None) -> Template:
    """Erasing cannot be undone: it is asked first, with what it does and a last chance to download one's data."""
    return render(request, settings, signed_in(viewer), "erase.html")


@post("/my/erase", name="erase_me")
async def erase(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    actor = signed_in(viewer)
    await posted(request)
    try:
        await rights.erase_me(db, settings, actor, now=now)
    except DomainError as refusal:
        return render(request, settings, actor, "erase.html", status=refusal.status, error=message_of(refusal))
    # Signed out already (their sessions are gone): the page that says so is shown as to anyone.
    return render(request, settings, None, "erased.html")


ROUTES = [privacy, confirm_erase, erase]
