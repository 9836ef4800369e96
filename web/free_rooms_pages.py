"""Finding a room free at a given time, with enough seats and the wanted features; each found room links to its form."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from booking import availability
from infra.database import Db
from infra.errors import DomainError, ErrorCode
from infra.settings import Settings
from people.actor import Actor
from resources import service as catalogue
from resources.rules import ResourceKind
from web.frame import error_map, moment_value, number_value, render
from web.pages import today
from web.refusals import FormInvalid

FIELDS = ("date", "from", "to", "seats")
# The booking form's names for the times, as the refusals place them, are this form's "from" and "to".
RENAMED = {"start": "from", "end": "to"}


def asked_of(request: Request) -> tuple[dict[str, str], list[str]]:
    """The search as typed (a GET form, so a search can be bookmarked and sent on) and the features ticked."""
    query = request.query_params
    return {name: query.get(name, "").strip() for name in FIELDS}, [f for f in query.getall("feature", []) if f]


def book_link(room: Any, asked: dict[str, str]) -> str:
    """The room's booking form, told the date, times and seats searched for."""
    wanted = {"date": asked["date"], "start": asked["from"], "end": asked["to"], "attendees": asked["seats"]}
    return f"/resources/{room.id}/book?" + urlencode({k: v for k, v in wanted.items() if v})


async def search(db: Db, asked: dict[str, str], features: list[str], now: datetime) -> list[Any]:
    start, end = moment_value(asked, "date", "from"), moment_value(asked, "date", "to")
    seats = number_value(asked, "seats")
    if seats is not None and seats < 1:
        raise FormInvalid(ErrorCode.INVALID_NUMBER, "seats")
    return await availability.free_rooms(db, start, end, seats=seats, features=frozenset(features), now=now)


@get("/rooms/free", name="free_rooms")
async def free_rooms(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    asked, features = asked_of(request)
    rooms = await catalogue.list_resources(db)
    offered = sorted({f for r in rooms if r.kind == ResourceKind.ROOM for f in r.features})
    context: dict[str, Any] = {"features": offered, "ticked": set(features), "searched": bool(asked["date"]), "found": []}
    status, errors = 200, {}
    if context["searched"]:
        try:
            context["found"] = await search(db, asked, features, now)
        except DomainError as refusal:
            status, errors = 422, {RENAMED.get(k, k): v for k, v in error_map(refusal, "date").items()}
    places = {location.id: location for location in await catalogue.list_locations(db)}
    defaults = {"date": today(now).isoformat(), "from": "18:00", "to": "20:00"}
    values = asked if context["searched"] else {**asked, **defaults}
    return render(
        request,
        settings,
        viewer,
        "free_rooms.html",
        status=status,
        errors=errors,
        values=values,
        places=places,
        book_link=book_link,
        **context,
    )


ROUTES = [free_rooms]
