"""Pages for staff at the desk: requests to decide, the day's hand-overs, overdue loans taken back; and all staff routes."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import lifecycle
from booking import service as bookings
from booking.loans import service as loans
from infra.database import Db
from infra.errors import DomainError, NotFound
from infra.settings import Settings
from infra.time import MIDNIGHT, local_datetime
from people import associations as groups
from people.actor import Actor, Duty
from people.service import persons_by_id
from resources import service as catalogue
from web import catalogue_pages, closure_pages
from web.frame import error_map, number_value, posted, render, see_other
from web.pages import resource_names, today
from web.staff_frame import staff  # also the other staff pages' way in, as it always was


def places_asked(request: Request) -> dict:
    """The places a staff list was asked for: `places=all`, `places=<a location's id>`, or (anything else) my own."""
    chosen = request.query_params.get("places", "")
    if chosen.isdigit() and len(chosen) < 10:
        return {"location_id": int(chosen), "all_places": False}
    return {"location_id": None, "all_places": chosen == "all"}


async def place_choice(request: Request, db: Db, actor: Actor) -> dict:
    """What the lists' place filter offers: my places, all I read, or one of the locations I read at."""
    chosen = request.query_params.get("places", "")
    readable = [loc for loc in await catalogue.list_locations(db) if actor.may(Duty.READ, loc.id)]
    return {"places": chosen if chosen == "all" or chosen.isdigit() else "mine", "place_options": readable}


async def requests_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, status: int = 200, errors: dict | None = None
) -> Template:
    """Each request with what staff decide on: the association, how many people, and whom to contact; at the places
    they decide unless they ask for others."""
    waiting = await bookings.awaiting_approval(db, actor, **places_asked(request))
    return render(
        request,
        settings,
        actor,
        "staff/requests.html",
        status=status,
        errors=errors or {},
        waiting=waiting,
        **await place_choice(request, db, actor),
        resources=await resource_names(db),
        people=await persons_by_id(db, {b.person_id for b in waiting}),
        associations={a.id: a for a in await groups.list_associations(db, actor)} if any(b.association_id for b in waiting) else {},
        done=request.query_params.get("done", ""),
    )


@get("/staff/requests", name="staff_requests")
async def staff_requests(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await requests_page(request, db, settings, staff(viewer))


@post("/staff/requests/{booking_id:int}/{decision:str}", name="decide")
async def decide(
    request: Request, booking_id: int, decision: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = staff(viewer)
    form = await posted(request)
    try:
        await lifecycle.decide(db, actor, booking_id, approve=decision == "approve", reason=form.get("reason", ""), now=now)
    except DomainError as refusal:
        return await requests_page(request, db, settings, actor, status=422, errors={f"booking-{booking_id}": error_map(refusal, "reason")})
    return see_other(f"/staff/requests?done={'approved' if decision == 'approve' else 'declined'}")


async def handovers_page(
    request: Request, db: Db, settings: Settings, actor: Actor, day: date, *, now: datetime, status: int = 200, errors: dict | None = None
) -> Template:
    """The day's pickups and returns, and the loans due back before it and still out: whoever brings one back late
    is taken in at the same desk. At the places they hand over unless they ask for others."""
    pickups, returns = await loans.handovers_on(db, actor, day, **places_asked(request))
    starts = local_datetime(day, MIDNIGHT)
    earlier = [b for b in await loans.overdue_loans(db, actor, now=now, **places_asked(request)) if b.end < starts]
    return render(
        request,
        settings,
        actor,
        "staff/handovers.html",
        status=status,
        errors=errors or {},
        day=day,
        **await place_choice(request, db, actor),
        pickups=pickups,
        returns=returns,
        earlier=earlier,
        resources=await resource_names(db),
        people=await persons_by_id(db, {b.person_id for b in pickups + returns + earlier}),
        done=request.query_params.get("done", ""),
    )


@get("/staff/handovers", name="handovers")
async def handovers(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, day: str = "") -> Template:
    return await handovers_page(request, db, settings, staff(viewer), day_or_today(day, now), now=now)


def day_or_today(day: str, now: datetime) -> date:
    """The day a hand-over page was asked for, or today for one that is no date (a day is only where to look)."""
    try:
        return date.fromisoformat(day)
    except ValueError:
        return today(now)


def returned_as(form: dict[str, str]) -> dict:
    """What the check-in form says of a return: its condition, a note, units missing, and whether it goes to repair."""
    return {
        "condition": form.get("condition") if form.get("condition") in ("ok", "damaged", "dirty") else "ok",
        "note": form.get("note", ""),
        "missing_units": number_value(form, "missing_units", default=0) or 0,
        "to_maintenance": bool(form.get("to_maintenance")),  # an unticked box is not sent at all
    }


@post("/staff/loans/{booking_id:int}/{step:str}", name="hand_over")
async def hand_over(
    request: Request, booking_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Check out at pickup, check in at return; the page the form came from (a day's hand-overs, or the overdue
    loans) is shown again."""
    actor = staff(viewer)
    if step not in ("check-out", "check-in"):
        raise NotFound(f"No hand-over step {step!r}")
    form = await posted(request)
    day, from_overdue = day_or_today(form.get("day", ""), now), form.get("back") == "overdue"
    try:
        if step == "check-out":
            await loans.check_out(db, actor, booking_id, at=None, note=form.get("note", ""), now=now)
        else:
            await loans.check_in(db, actor, booking_id, at=None, now=now, **returned_as(form))
    except DomainError as refusal:
        errors = {f"booking-{booking_id}": error_map(refusal, "note")}
        if from_overdue:
            return await overdue_page(request, db, settings, actor, now=now, status=422, errors=errors)
        return await handovers_page(request, db, settings, actor, day, now=now, status=422, errors=errors)
    if from_overdue:
        return see_other(f"/staff/overdue?done={step}")
    return see_other(f"/staff/handovers?day={day.isoformat()}&done={step}")


async def overdue_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, now: datetime, status: int = 200, errors: dict | None = None
) -> Template:
    late = await loans.overdue_loans(db, actor, now=now, **places_asked(request))
    return render(
        request,
        settings,
        actor,
        "staff/overdue.html",
        status=status,
        errors=errors or {},
        late=late,
        **await place_choice(request, db, actor),
        day=today(now),
        resources=await resource_names(db),
        people=await persons_by_id(db, {b.person_id for b in late}),
        done=request.query_params.get("done", ""),
    )


@get("/staff/overdue", name="overdue")
async def overdue(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """Every loan past its return time, each with whom to chase and a form to take it back when it comes in."""
    return await overdue_page(request, db, settings, staff(viewer), now=now)


ROUTES = [staff_requests, decide, handovers, hand_over, overdue, *catalogue_pages.ROUTES, *closure_pages.ROUTES]
