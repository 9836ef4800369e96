"""Pages for booking: a room one-off or weekly with each date's outcome, equipment on loan, an association's page."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import series as series_service
from booking import service as bookings
from booking.engine import NewBooking
from booking.rules import check_not_in_the_past
from infra.database import Db
from infra.errors import DomainError, Forbidden
from infra.settings import Settings
from notifications import service as notifications
from people import associations as memberships
from people.actor import Actor, Duty
from resources import service as catalogue
from resources.rules import BookerKind, ResourceKind
from web.frame import (
    day_value,
    language_of,
    moment_value,
    number_value,
    posted,
    render,
    see_other,
    signed_in,
)
from web.i18n import Speaker
from web.pages import resource_names, today, webcal
from web.refusals import WAITABLE, said, said_errors
from web.rule_words import for_myself, may_book, rules_of, who_may_book


def page_speaker(request: Request, viewer: Actor) -> Speaker:
    """The page's own language, for refusals said with their numbers before the page is rendered."""
    return Speaker(language_of(request, viewer))


async def booking_form(
    request: Request,
    db: Db,
    settings: Settings,
    viewer: Actor,
    resource_id: int,
    now: datetime,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    may_wait: bool = False,
) -> Template:
    detail = await catalogue.get_resource(db, resource_id)
    policy, is_loan = detail.policy, detail.resource.kind == ResourceKind.EQUIPMENT
    associations = await memberships.list_associations(db, viewer)
    mine = [a for a in associations if viewer.is_member_of(a.id)]
    defaults = {"date": today(now).isoformat(), "end_date": today(now).isoformat(), "quantity": "1"}
    location_id = detail.resource.location_id
    if mine and not is_loan and (BookerKind.ASSOCIATION in policy.bookable_by or viewer.may(Duty.DECIDE, location_id)):
        defaults["association_id"] = str(mine[0].id)  # a member books a room for their association, mostly
    return render(
        request,
        settings,
        viewer,
        "book.html",
        status=status,
        resource=detail.resource,
        policy=policy,
        rules=rules_of(policy, detail.closures, page_speaker(request, viewer), now=now, today=today(now), is_loan=is_loan),
        may_book=may_book(policy, viewer, location_id),
        who_may_book=who_may_book(policy),
        for_myself=for_myself(policy, viewer, location_id),
        associations=mine,
        errors=errors or {},
        values={**defaults, **(values or {})},
        is_loan=is_loan,
        may_wait=may_wait,
    )


ASKED = ("date", "start", "end", "attendees")  # what a link may fill in ahead, as the free-rooms search does


@get("/resources/{resource_id:int}/book", name="book")
async def book_form(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """The form, filled in with the date, times and seats a link asked for (each bounded: it is shown, not trusted)."""
    asked = {name: value[:10] for name in ASKED if (value := request.query_params.get(name, "").strip())}
    return await booking_form(request, db, settings, signed_in(viewer), resource_id, now, values=asked)


def wanted_of(form: dict[str, str], resource_id: int, is_loan: bool) -> NewBooking:
    """The booking a form asks for; a loan has its own return date, a room ends on the day it starts."""
    start = moment_value(form, "date", "start")
    end = moment_value(form, "end_date" if is_loan else "date", "end")
    association = number_value(form, "association_id")
    if is_loan:
        return NewBooking(resource_id, start, end, form.get("title", ""), association, None, number_value(form, "quantity", default=1) or 1)
    return NewBooking(resource_id, start, end, form.get("title", ""), association, number_value(form, "attendees"))


@post("/resources/{resource_id:int}/book", name="send_booking")
async def send_booking(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    detail = await catalogue.get_resource(db, resource_id)
    is_loan = detail.resource.kind == ResourceKind.EQUIPMENT
    try:
        wanted = wanted_of(form, resource_id, is_loan)
        check_not_in_the_past(wanted.start, now=now)  # a date gone by is refused as past, whatever else it breaks
        if form.get("weekly") and not is_loan:
            return await book_weekly(db, actor, wanted, day_value(form, "until"), now)
        booking, _ = await bookings.create_booking(db, actor, wanted, now=now)
    except DomainError as refusal:
        return await booking_form(
            request,
            db,
            settings,
            actor,
            resource_id,
            now,
            status=422,
            errors=said_errors(refusal, page_speaker(request, actor)),
            values=form,
            may_wait=may_wait_after(refusal, weekly=bool(form.get("weekly"))),
        )
    return see_other(f"/my/bookings?done={booking.status}")


def may_wait_after(refusal: DomainError, *, weekly: bool) -> bool:
    """Waiting helps when the time is taken, not when more units are wanted than the item has at all."""
    more_than_exists = refusal.extra.get("wanted", 0) > refusal.extra.get("stock", float("inf"))
    return refusal.code in WAITABLE and not weekly and not more_than_exists


async def book_weekly(db: Db, actor: Actor, first: NewBooking, until: date, now: datetime) -> Redirect:
    """The series books what it can; its page shows every date, and the dates it could not get with why (kept with it)."""
    outcome = await series_service.create_series(db, actor, first, every_weeks=1, until=until, now=now)
    return see_other(f"/series/{outcome.series.id}?done=booked")


async def series_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    series_id: int,
    now: datetime,
    *,
    template: str = "series.html",
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> Template:
    view = await series_service.show_series(db, actor, series_id, now=now)
    speak = page_speaker(request, actor)
    return render(
        request,
        settings,
        actor,
        template,
        status=status,
        series=view.series,
        bookings=view.bookings,
        refused=[(r.date, said(r.code, r.data, speak)) for r in view.refused],
        rest=view.rest,
        may_act=view.may_act,
        needs_reason=view.needs_reason,
        resources=await resource_names(db),
        done=request.query_params.get("done", ""),
        errors=errors or {},
        values=values or {},
    )


@get("/series/{series_id:int}", name="series")
async def show_series(request: Request, series_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await series_page(request, db, settings, signed_in(viewer), series_id, now)


async def check_may_cancel(db: Db, actor: Actor, series_id: int, now: datetime) -> None:
    """A stranger is told no series exists (404); a member who is not an admin that they may not cancel it (403)."""
    if not (await series_service.show_series(db, actor, series_id, now=now)).may_act:
        raise Forbidden("Only the booker, the association's admins or staff may cancel this series", series_id=series_id)


@get("/series/{series_id:int}/cancel", name="confirm_cancel_series")
async def confirm_cancel_series(
    request: Request, series_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template:
    """Cancelling the rest of a series asks first, on a page of its own that lists the dates it would cancel."""
    actor = signed_in(viewer)
    await check_may_cancel(db, actor, series_id, now)
    return await series_page(request, db, settings, actor, series_id, now, template="series_cancel.html")


@post("/series/{series_id:int}/cancel", name="cancel_series")
async def cancel_series(
    request: Request, series_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    await check_may_cancel(db, actor, series_id, now)
    try:
        await series_service.cancel_series(db, actor, series_id, form.get("reason", ""), after=None, now=now)
    except DomainError as refusal:
        errors = said_errors(refusal, page_speaker(request, actor), "reason")
        return await series_page(
            request, db, settings, actor, series_id, now, template="series_cancel.html", status=422, errors=errors, values=form
        )
    return see_other(f"/series/{series_id}?done=cancelled")


@get("/associations/{association_id:int}", name="association")
async def association_page(
    request: Request, association_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template:
    return await show_association(request, db, settings, signed_in(viewer), association_id, now)


@post("/associations/{association_id:int}/calendar-feed", name="make_association_feed")
async def make_association_feed(
    request: Request, association_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template:
    """Make (or replace) my feed URL of the association and show it this once: only its hash is kept."""
    actor = signed_in(viewer)
    await posted(request)
    url = await notifications.rotate_calendar_feed(db, settings, actor, now=now, association_id=association_id)
    return await show_association(request, db, settings, actor, association_id, now, new_feed=url)


async def show_association(
    request: Request, db: Db, settings: Settings, actor: Actor, association_id: int, now: datetime, new_feed: str | None = None
) -> Template:
    association = await memberships.get_association(db, actor, association_id)
    members = await memberships.list_members(db, actor, association_id)
    rows = await bookings.list_bookings(db, actor, association_id=association_id)
    return render(
        request,
        settings,
        actor,
        "association.html",
        association=association,
        members=members,
        bookings=[b for b in rows if b.end > now],
        resources=await resource_names(db),
        has_feed=new_feed is not None or await notifications.has_association_feed(db, actor, association_id),
        feed=new_feed and webcal(new_feed),  # only just made: the URL is not kept, so it is shown this once
        may_see_email=actor.may(Duty.PEOPLE) or actor.is_admin_of(association_id),
    )


@get("/associations", name="associations")
async def associations_page(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = signed_in(viewer)
    return render(request, settings, viewer, "associations.html", associations=await memberships.list_associations(db, actor))


ROUTES = [
    book_form,
    send_booking,
    show_series,
    confirm_cancel_series,
    cancel_series,
    association_page,
    make_association_feed,
    associations_page,
]
