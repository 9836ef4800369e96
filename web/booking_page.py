"""The booking page every mail and calendar event links to: what, where, when, its status and what happened to it, and
what the viewer may do with it (change the time; cancel, after a page that asks first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import lifecycle
from booking import service as bookings
from booking.engine import check_may_act_on
from booking.rules import CANCELLABLE, BookingStatus
from infra.database import Db
from infra.errors import DomainError, Forbidden, NotFound
from infra.settings import TIMEZONE, Settings
from notifications import history
from people import associations as memberships
from people.actor import Actor, Duty
from people.service import persons_by_id
from resources import service as catalogue
from resources.rules import ResourceKind
from web.frame import error_map, moment_value, posted, render, see_other, signed_in

MAP_SEARCH = "https://www.openstreetmap.org/search?"
# What refusals carry that a person can act on; these are moments, written as ISO text in the refusal.
MOMENTS = frozenset({"taken_start", "taken_end", "earliest", "latest", "deadline"})


async def visible_booking(db: Db, actor: Actor, booking_id: int) -> Any:
    """The booking, if the viewer may see it. Someone else's booking answers as an unknown one does (404), so a
    guessed number tells nothing of which bookings exist."""
    try:
        return await bookings.get_booking(db, actor, booking_id)
    except Forbidden:
        raise NotFound(f"No booking {booking_id}", booking_id=booking_id) from None


def may_act_on(actor: Actor, booking: Any, location_id: int) -> bool:
    """The booker, an admin of the booking's association, or staff who decide at its place: the lifecycle's own rule."""
    try:
        check_may_act_on(actor, booking, location_id)
    except Forbidden:
        return False
    return True


def map_url(location: Any) -> str:
    """A map search for the address (no map is embedded: the pages run no script and load nothing from elsewhere)."""
    place = ", ".join(p for p in (location.address, f"{location.postal_code} {location.city}".strip()) if p)
    return MAP_SEARCH + urlencode({"query": place or location.name})


def form_values(booking: Any) -> dict[str, str]:
    """The change-time form starts at the booking's own times, as the Oslo wall clock reads them."""
    start, end = booking.start.astimezone(TIMEZONE), booking.end.astimezone(TIMEZONE)
    return {
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "end_date": end.date().isoformat(),
        "end": end.strftime("%H:%M"),
    }


def placed(refusal: DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    """The refusal beside the field it concerns, when the form has that field; else above the form's button."""
    errors = error_map(refusal)
    return errors if set(errors) <= set(fields) else {"form": next(iter(errors.values()))}


def numbers_of(refusal: DomainError) -> dict[str, Any]:
    """The numbers a refusal carries (the time that is taken, the shortest and longest booking, the earliest start…),
    its moments read back as times, for the page to say beside the refusal's sentence."""
    found: dict[str, Any] = {"code": str(refusal.code)}
    for key, value in refusal.extra.items():
        if key in MOMENTS and isinstance(value, str):
            try:
                found[key] = datetime.fromisoformat(value)
            except ValueError:
                continue
        elif isinstance(value, int | float | str) and not isinstance(value, bool):
            found[key] = value
    return found


async def booking_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    booking_id: int,
    now: datetime,
    *,
    template: str = "booking.html",
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    numbers: dict | None = None,
) -> Template:
    booking = await visible_booking(db, actor, booking_id)
    detail = await catalogue.get_resource(db, booking.resource_id)
    location = await catalogue.get_location(db, detail.resource.location_id)
    acts = may_act_on(actor, booking, location.id)
    decides_here, reads_here = actor.may(Duty.DECIDE, location.id), actor.may(Duty.READ, location.id)
    changeable = acts and BookingStatus(booking.status) in CANCELLABLE and booking.end > now
    deadline = booking.start - detail.policy.cancellation_notice
    association = None
    if booking.association_id is not None:
        association = next((a for a in await memberships.list_associations(db, actor) if a.id == booking.association_id), None)
    booker = None
    if booking.person_id != actor.person_id:  # staff and the association's members see who booked it
        booker = (await persons_by_id(db, {booking.person_id})).get(booking.person_id)
    return render(
        request,
        settings,
        actor,
        template,
        status=status,
        booking=booking,
        resource=detail.resource,
        location=location,
        map_url=map_url(location),
        is_loan=not booking.exclusive,
        steps=await history.booking_history(db, actor, booking_id),
        association=association,
        booker=booker,
        may_act=acts,
        changeable=changeable,
        movable=changeable and detail.resource.kind != ResourceKind.GARDEN_BED,  # a bed is held for its season
        cancellable=changeable and (decides_here or now <= deadline),
        deadline=deadline,
        needs_reason=decides_here and booking.person_id != actor.person_id,
        decides_here=decides_here,  # no cancellation deadline for them
        reads_here=reads_here,  # staff notes and the booker's email
        errors=errors or {},
        values={**form_values(booking), **(values or {})},
        numbers=numbers or {},
        done=request.query_params.get("done", ""),
    )


@get("/bookings/{booking_id:int}", name="booking")
async def show(request: Request, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await booking_page(request, db, settings, signed_in(viewer), booking_id, now)


@post("/bookings/{booking_id:int}/move", name="move_booking")
async def move(request: Request, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    """A new date and times for the booking; the same rules as a new booking's apply, and a refusal changes nothing."""
    actor = signed_in(viewer)
    form = await posted(request)
    booking = await visible_booking(db, actor, booking_id)
    fields = ("date", "start", "end") if booking.exclusive else ("date", "start", "end_date", "end")
    try:
        start = moment_value(form, "date", "start")
        end = moment_value(form, "end_date" if not booking.exclusive else "date", "end")
        await lifecycle.change_booking(db, actor, booking_id, start=start, end=end, title=None, attendees=None, now=now)
    except DomainError as refusal:
        return await booking_page(
            request,
            db,
            settings,
            actor,
            booking_id,
            now,
            status=422,
            errors=placed(refusal, fields),
            values=form,
            numbers=numbers_of(refusal),
        )
    return see_other(f"/bookings/{booking_id}?done=moved")


@get("/bookings/{booking_id:int}/cancel", name="confirm_cancel")
async def confirm_cancel(request: Request, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """Cancelling asks first, on a page of its own: a form to send, or a way back, and no script needed."""
    actor = signed_in(viewer)
    booking = await visible_booking(db, actor, booking_id)
    check_may_act_on(actor, booking, (await catalogue.get_resource(db, booking.resource_id)).resource.location_id)
    return await booking_page(request, db, settings, actor, booking_id, now, template="booking_cancel.html")


@post("/bookings/{booking_id:int}/cancel", name="cancel_from_booking")
async def cancel(request: Request, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    await visible_booking(db, actor, booking_id)
    try:
        await lifecycle.cancel_booking(db, actor, booking_id, form.get("reason", ""), now=now)
    except DomainError as refusal:
        return await booking_page(
            request,
            db,
            settings,
            actor,
            booking_id,
            now,
            template="booking_cancel.html",
            status=422,
            errors=placed(refusal, ("reason",)),
            values=form,
            numbers=numbers_of(refusal),
        )
    return see_other(f"/bookings/{booking_id}?done=cancelled")


ROUTES = [show, move, confirm_cancel, cancel]
