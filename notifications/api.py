"""HTTP for notifications: calendar feeds with ETags, feed URLs to rotate and revoke, and failed mails for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.params import Parameter

from infra.database import Db
from infra.outbox import Notification
from infra.settings import TIMEZONE, Settings
from notifications import feeds, rules, service
from people.actor import Actor
from people.store import Person

CALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8" to every text/* type it is given
Id = Annotated[int, Parameter(ge=1, le=2_147_483_647)]  # what an id column holds: larger numbers are no one's id
REFRESH_SECONDS = int(rules.FEED_REFRESH.total_seconds())


def ics_name(filename: str) -> str:
    """`{name}.ics` path segments: the router matches whole segments, so the suffix is checked here."""
    if not filename.endswith(".ics") or len(filename) <= 4:
        raise feeds.FeedNotFound()
    return filename[:-4]


def calendar_response(feed: feeds.Feed, *, private: bool) -> Response:
    """The feed, or 304 when the client's copy is current: calendar apps poll, and most polls change nothing."""
    headers = {
        "ETag": feed.etag,
        "Cache-Control": f"{'private' if private else 'public'}, max-age={REFRESH_SECONDS // 4}",
        # The private URL is the secret: it must not leak onward through a Referer header.
        "Referrer-Policy": "no-referrer",
    }
    if feed.body is None:
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=feed.body, media_type=CALENDAR, headers=headers)


@get("/calendar/feeds/{filename:str}", summary="A private calendar feed (`{token}.ics`; the URL is the key)")
async def private_feed(filename: str, request: Request, db: Db, settings: Settings, now: datetime) -> Response:
    known = request.headers.get("if-none-match")
    return calendar_response(await feeds.private_feed(db, settings, ics_name(filename), now=now, known=known), private=True)


@get("/calendar/resources/{filename:str}", summary="A resource's busy times as a public calendar feed (`{id}.ics`)")
async def resource_feed(filename: str, request: Request, db: Db, settings: Settings, now: datetime, lang: str = "nb") -> Response:
    name = ics_name(filename)
    if not name.isdigit() or len(name) > 9:
        raise feeds.FeedNotFound()
    feed = await feeds.resource_feed(db, settings, int(name), lang, now=now, known=request.headers.get("if-none-match"))
    return calendar_response(feed, private=False)


async def provide_my_calendar_feed(db: Db, actor: Actor) -> dict | None:
    """Whether I have a feed, for `GET /api/v1/me` (people's api is given it, not told where it lives).

    Its URL cannot be told: only a hash of the token is kept, so the URL is shown once, when it is made.
    """
    return {"exists": True} if await service.has_calendar_feed(db, actor.person_id) else None


@get("/api/v1/me/calendar-feed", summary="Whether I have a private calendar feed (its URL is shown only when made)")
async def my_feed(db: Db, actor: Actor) -> dict:
    return {"exists": await service.has_calendar_feed(db, actor.person_id)}


@post("/api/v1/me/calendar-feed", status_code=201, summary="Make my feed URL, shown only in this answer; an older one stops working")
async def make_my_feed(db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return {"url": await service.rotate_calendar_feed(db, settings, actor, now=now)}


@post(
    "/api/v1/me/calendar-feed/rotate", status_code=200, summary="Replace my feed URL (shown only in this answer); the old one stops working"
)
async def rotate_my_feed(db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return {"url": await service.rotate_calendar_feed(db, settings, actor, now=now)}


@delete("/api/v1/me/calendar-feed", summary="Revoke my feed URL")
async def revoke_my_feed(db: Db, actor: Actor, now: datetime) -> None:
    await service.revoke_calendar_feed(db, actor, now=now)


@get("/api/v1/associations/{association_id:int}/calendar-feed", summary="Whether I have a feed of an association's bookings (members)")
async def association_feed(association_id: Id, db: Db, actor: Actor) -> dict:
    return {"exists": await service.has_association_feed(db, actor, association_id)}


@post("/api/v1/associations/{association_id:int}/calendar-feed", status_code=201, summary="Make my association feed URL (shown once)")
async def make_association_feed(association_id: Id, db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return {"url": await service.rotate_calendar_feed(db, settings, actor, now=now, association_id=association_id)}


@post("/api/v1/associations/{association_id:int}/calendar-feed/rotate", status_code=200, summary="Replace my association feed URL")
async def rotate_association_feed(association_id: Id, db: Db, settings: Settings, actor: Actor, now: datetime) -> dict:
    return {"url": await service.rotate_calendar_feed(db, settings, actor, now=now, association_id=association_id)}


@delete("/api/v1/associations/{association_id:int}/calendar-feed", summary="Revoke my association feed URL")
async def revoke_association_feed(association_id: Id, db: Db, actor: Actor, now: datetime) -> None:
    await service.revoke_calendar_feed(db, actor, now=now, association_id=association_id)


def local(moment: datetime | None) -> str | None:
    return moment.astimezone(TIMEZONE).isoformat() if moment else None


def failed_json(notification: Notification, person: Person | None) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "booking_id": notification.booking_id,
        "person_id": notification.person_id,
        "email": person.email if person else None,
        "attempts": notification.attempts,
        "last_error": notification.last_error,
        "created_at": local(notification.created_at),
        "last_attempt_at": local(notification.last_attempt_at),
    }


@get("/api/v1/notifications/failed", summary="Mails that failed for good, newest first (staff)")
async def failed_notifications(db: Db, actor: Actor) -> dict:
    return {"items": [failed_json(n, p) for n, p in await service.failed_notifications(db, actor)]}


@post("/api/v1/notifications/{notification_id:int}/retry", status_code=202, summary="Try a failed mail again (staff)")
async def retry_notification(notification_id: Id, db: Db, actor: Actor, now: datetime) -> dict:
    await service.retry_notification(db, actor, notification_id, now=now)
    return {"status": "pending"}


ROUTES = [
    private_feed,
    resource_feed,
    my_feed,
    make_my_feed,
    rotate_my_feed,
    revoke_my_feed,
    association_feed,
    make_association_feed,
    rotate_association_feed,
    revoke_association_feed,
    failed_notifications,
    retry_notification,
]
