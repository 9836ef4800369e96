"""Pages for everyone: the front page by place, a resource with its free week, sign-in, language, my bookings."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from booking import availability, lifecycle
from booking import service as bookings
from booking.rules import CANCELLABLE, BookingStatus
from infra.database import Db
from infra.errors import DomainError
from infra.http import SESSION_COOKIE, SIGNED_OUT, session_cookie
from infra.settings import TIMEZONE, Settings
from infra.time import MIDNIGHT, Interval, local_datetime, subtract
from notifications import service as notifications
from people import service as people
from people.actor import Actor
from resources import service as catalogue
from resources.rules import open_intervals
from web.error_pages import NO_TRACE, dead_link_page
from web.frame import error_map, posted, render, see_other, signed_in
from web.i18n import chosen


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def today(now: datetime) -> date:
    return now.astimezone(TIMEZONE).date()


@get("/", name="front")
async def front(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    locations = await catalogue.list_locations(db)
    by_place: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for resource in await catalogue.list_resources(db):
        by_place[resource.location_id][resource.kind].append(resource)
    kits: dict[int, list] = defaultdict(list)  # lent together, with one form: listed beside the place's equipment
    for kit, items in await catalogue.list_kits(db):
        kits[kit.location_id].append((kit, items))
    places = [(loc, by_place[loc.id]) for loc in locations if by_place.get(loc.id)]
    return render(request, settings, viewer, "front.html", places=places, kits=kits)


def week_rows(policy: Any, found: availability.Availability, first: date) -> list[dict[str, Any]]:
    """Each day of the week: when it is free, and when it is open but taken, closed or too soon."""
    rows = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        span = Interval(local_datetime(day, MIDNIGHT), local_datetime(day + timedelta(days=1), MIDNIGHT))
        free = [i for i in (x.intersection(span) for x in found.free) if i and not i.is_empty]
        taken = subtract(open_intervals(policy, span), free)
        units = None
        if found.units is not None:
            during = [n for piece, n in found.units if any(piece.overlaps(f) for f in free)]
            units = min(during) if during else 0
        rows.append({"day": day, "free": free, "taken": taken, "units": units})
    return rows


@get("/resources/{resource_id:int}", name="resource")
async def resource_page(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime, week: str = ""
) -> Template:
    detail = await catalogue.get_resource(db, resource_id)
    location = await catalogue.get_location(db, detail.resource.location_id)
    # Seven days from today (or from the day asked for): on a Sunday, this Monday's week is all past.
    try:
        first = date.fromisoformat(week) if week else today(now)
    except ValueError:
        first = today(now)
    span_start, span_end = local_datetime(first, MIDNIGHT), local_datetime(first + timedelta(days=7), MIDNIGHT)
    found = await availability.free_intervals(db, resource_id, span_start, span_end, now=now)
    return render(
        request,
        settings,
        viewer,
        "resource.html",
        resource=detail.resource,
        policy=detail.policy,
        location=location,
        rows=week_rows(detail.policy, found, first),
        first=first,
        previous=first - timedelta(days=7),
        following=first + timedelta(days=7),
        feed_url=f"{settings.base_url}/calendar/resources/{resource_id}.ics",
    )


# ---------------------------------------------------------------- sign-in and out


@get("/sign-in", name="sign_in")
async def sign_in_form(request: Request, settings: Settings, viewer: Actor | None, next: str = "/") -> Template:
    return render(request, settings, viewer, "sign_in.html", next=safe_next(next))


AFTER_SIGN_IN, AFTER_SIGN_IN_SECONDS = "after_sign_in", 24 * 3600  # as long as a sign-in link lasts


def safe_next(path: str) -> str:
    """Only a path on this site: a sign-in link must never send anyone elsewhere."""
    plain = path.startswith("/") and not path.startswith("//") and len(path) <= 500
    return path if plain and not any(c in path for c in "\\\r\n") else "/"  # "/\\host" is "//host" to a browser


@post("/sign-in", name="send_sign_in")
async def send_sign_in(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    form = await posted(request)
    language = chosen(request.query_params.get("lang"), request.cookies.get("lang"))
    client = request.client.host if request.client else ""
    try:
        outcome = await people.request_signin(db, settings, form.get("email", ""), now=now, language=language, client=client)
    except DomainError as refusal:
        answer = render(
            request, settings, viewer, "sign_in.html", status=refusal.status, errors=error_map(refusal, "email"), values=form, next="/"
        )
        if isinstance(retry_after := refusal.extra.get("retry_after"), int):
            answer.headers["Retry-After"] = str(retry_after)
        return answer
    sent = see_other("/sign-in/sent" + ("?delayed=1" if outcome == people.SigninOutcome.QUEUED else ""))
    if (after := safe_next(form.get("next", "/"))) != "/":  # the page they came for, opened once the link is used here
        sent.cookies.append(Cookie(key=AFTER_SIGN_IN, value=after, max_age=AFTER_SIGN_IN_SECONDS, httponly=True, samesite="lax"))
    return sent


@get("/sign-in/sent", name="sign_in_sent")
async def sign_in_sent(request: Request, settings: Settings, viewer: Actor | None, delayed: str = "") -> Template:
    return render(request, settings, viewer, "sign_in_sent.html", delayed=bool(delayed))


# A mail scanner that follows the link must not use it up: looking shows a button, and pressing it signs in.
@get("/auth/verify", name="verify")
async def verify_form(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, token: str = "") -> Template:
    if not token or not await people.signin_link_is_live(db, token, now=now):
        return await dead_link_page(request, db, viewer, token)  # a way on: a new link to the same address
    answer = render(request, settings, viewer, "verify.html", token=token)
    answer.headers.update(NO_TRACE)
    return answer


@post("/auth/verify", name="redeem")
async def verify(request: Request, db: Db, settings: Settings, now: datetime) -> Template | Redirect:
    form = await posted(request)
    try:
        session = await people.redeem_signin_link(db, form.get("token", ""), now=now)
    except people.SigninLinkInvalid:  # used a moment ago (a second press, another tab), replaced or run out
        return await dead_link_page(request, db, None, form.get("token", ""))
    max_age = int(people.SESSION_LENGTH.total_seconds())
    return Redirect(
        safe_next(request.cookies.get(AFTER_SIGN_IN, "/")),
        status_code=303,
        cookies=[
            session_cookie(settings, session, max_age=max_age, over_https=request.url.scheme == "https"),
            Cookie(key=AFTER_SIGN_IN, value="", max_age=0, httponly=True, samesite="lax"),
        ],
        headers=NO_TRACE,
    )


@post("/sign-out", name="sign_out")
async def sign_out(request: Request, db: Db, now: datetime) -> Redirect:
    await posted(request)
    if token := request.cookies.get(SESSION_COOKIE):
        await people.sign_out(db, token, now=now)
    return Redirect("/", status_code=303, cookies=[SIGNED_OUT])


# ---------------------------------------------------------------- my bookings


async def resource_names(db: Db) -> dict[int, Any]:
    return {r.id: r for r in await catalogue.list_resources(db, include_retired=True)}


def webcal(url: str) -> str:
    """Calendar apps subscribe (and keep polling) when the link says webcal:."""
    return "webcal://" + url.split("://", 1)[1]


async def my_bookings_page(
    request: Request,
    db: Db,
    settings: Settings,
    viewer: Actor,
    now: datetime,
    status: int = 200,
    errors: dict | None = None,
) -> Template:
    mine = await bookings.list_bookings(db, viewer)
    upcoming = [b for b in mine if b.end > now and b.status not in (BookingStatus.CANCELLED, BookingStatus.DECLINED)]
    past = [b for b in reversed(mine) if b not in upcoming][:20]
    return render(
        request,
        settings,
        viewer,
        "my_bookings.html",
        status=status,
        errors=errors or {},
        upcoming=upcoming,
        past=past,
        resources=await resource_names(db),
        cancellable=CANCELLABLE,
        has_feed=await notifications.has_calendar_feed(db, viewer.person_id),
        done=request.query_params.get("done", ""),
    )


@get("/my/bookings", name="my_bookings")
async def my_bookings(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await my_bookings_page(request, db, settings, signed_in(viewer), now)


@post("/my/bookings/{booking_id:int}/cancel", name="cancel_booking")
async def cancel(request: Request, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    try:
        await lifecycle.cancel_booking(db, actor, booking_id, form.get("reason", ""), now=now)
    except DomainError as refusal:
        return await my_bookings_page(request, db, settings, actor, now, status=422, errors={f"booking-{booking_id}": error_map(refusal)})
    return see_other("/my/bookings?done=cancelled")


# The calendar feed is made, replaced and stopped on the profile page (web/profile_pages.py).

ROUTES = [front, resource_page, sign_in_form, send_sign_in, sign_in_sent, verify_form, verify, sign_out, my_bookings, cancel]
