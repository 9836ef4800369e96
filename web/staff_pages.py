"""Pages for staff: requests to decide, the day's hand-overs, overdue loans, the catalogue and its closures."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import closures as closing
from booking import lifecycle
from booking import service as bookings
from booking.closure_rules import Choice, Decision
from booking.loans import service as loans
from infra.database import Db
from infra.errors import DomainError, ErrorCode, NotFound
from infra.settings import Settings
from people.actor import Actor, check_staff
from people.service import persons_by_id
from resources import service as catalogue
from web.frame import (
    error_map,
    moment_value,
    number_value,
    posted,
    render,
    see_other,
    signed_in,
)
from web.pages import resource_names, today


def staff(viewer: Actor | None) -> Actor:
    actor = signed_in(viewer)
    check_staff(actor)
    return actor


async def requests_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, status: int = 200, errors: dict | None = None
) -> Template:
    waiting = await bookings.list_bookings(db, actor, status="requested")
    return render(
        request,
        settings,
        actor,
        "staff/requests.html",
        status=status,
        errors=errors or {},
        waiting=waiting,
        resources=await resource_names(db),
        people=await persons_by_id(db, {b.person_id for b in waiting}),
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
    request: Request, db: Db, settings: Settings, actor: Actor, day: date, *, status: int = 200, errors: dict | None = None
) -> Template:
    pickups, returns = await loans.handovers_on(db, actor, day)
    ids = {b.person_id for b in pickups + returns}
    return render(
        request,
        settings,
        actor,
        "staff/handovers.html",
        status=status,
        errors=errors or {},
        day=day,
        pickups=pickups,
        returns=returns,
        resources=await resource_names(db),
        people=await persons_by_id(db, ids),
        done=request.query_params.get("done", ""),
    )


@get("/staff/handovers", name="handovers")
async def handovers(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, day: str = "") -> Template:
    return await handovers_page(request, db, settings, staff(viewer), day_or_today(day, now))


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
    """Check out at pickup, check in at return; the page the form came from is shown again."""
    actor = staff(viewer)
    if step not in ("check-out", "check-in"):
        raise NotFound(f"No hand-over step {step!r}")
    form = await posted(request)
    day = day_or_today(form.get("day", ""), now)
    try:
        if step == "check-out":
            await loans.check_out(db, actor, booking_id, at=None, note=form.get("note", ""), now=now)
        else:
            await loans.check_in(db, actor, booking_id, at=None, now=now, **returned_as(form))
    except DomainError as refusal:
        return await handovers_page(
            request, db, settings, actor, day, status=422, errors={f"booking-{booking_id}": error_map(refusal, "note")}
        )
    return see_other(f"/staff/handovers?day={day.isoformat()}&done={step}")


@get("/staff/overdue", name="overdue")
async def overdue(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    actor = staff(viewer)
    late = await loans.overdue_loans(db, actor, now=now)
    return render(
        request,
        settings,
        actor,
        "staff/overdue.html",
        late=late,
        resources=await resource_names(db),
        people=await persons_by_id(db, {b.person_id for b in late}),
    )


@get("/staff/catalogue", name="staff_catalogue")
async def staff_catalogue(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    locations = {loc.id: loc for loc in await catalogue.list_locations(db)}
    items = await catalogue.list_resources(db, include_retired=True)
    return render(request, settings, actor, "staff/catalogue.html", items=items, locations=locations)


async def closures_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    resource_id: int,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    covered: list[closing.Covered] | None = None,
) -> Template:
    detail = await catalogue.get_resource(db, resource_id)
    return render(
        request,
        settings,
        actor,
        "staff/closures.html",
        status=status,
        errors=errors or {},
        values=values or {},
        resource=detail.resource,
        closures=detail.closures,
        covered=covered or [],
        done=request.query_params.get("done", ""),
        count=request.query_params.get("count", ""),
    )


@get("/staff/resources/{resource_id:int}/closures", name="closures")
async def closures(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await closures_page(request, db, settings, staff(viewer), resource_id)


@post("/staff/resources/{resource_id:int}/closures", name="add_closure")
async def add_closure(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Asked first, the bookings the closure covers are shown to cancel or keep; nothing is saved until staff choose."""
    actor = staff(viewer)
    form = await posted(request)
    try:
        start, end = moment_value(form, "start_date", "start"), moment_value(form, "end_date", "end")
        if "seen" not in form and (covered := await closing.preview_closure(db, actor, resource_id, start, end, now=now)):
            return await closures_page(request, db, settings, actor, resource_id, values=form, covered=covered)
        _, outcome = await closing.add_closure(db, actor, resource_id, start, end, form.get("reason", ""), decision_of(form), now=now)
    except DomainError as refusal:
        covered = await covered_again(db, actor, resource_id, form, refusal, now=now)
        errors = error_map(refusal, "end")
        return await closures_page(request, db, settings, actor, resource_id, status=422, errors=errors, values=form, covered=covered)
    told = len(outcome.cancelled) + len(outcome.withdrawn)
    return see_other(f"/staff/resources/{resource_id}/closures?done={outcome.choice or 'closed'}&count={told}")


def decision_of(form: dict[str, str]) -> Decision:
    """The choice made, and the bookings shown (none, when the closure covered none on the first asking)."""
    choice = form.get("covered", "")
    seen = frozenset(int(part) for part in form.get("seen", "").split(",") if part.isdigit())
    return Decision(Choice(choice) if choice in set(Choice) else None, seen)


async def covered_again(db: Db, actor: Actor, resource_id: int, form: dict[str, str], refusal: DomainError, *, now: datetime) -> list:
    """The covered bookings as they are now, shown again when the choice was refused (missing, stale, or without a reason)."""
    if refusal.code not in (ErrorCode.COVERED_CHOICE_REQUIRED, ErrorCode.COVERED_BOOKINGS_CHANGED, ErrorCode.REASON_REQUIRED):
        return []
    start, end = moment_value(form, "start_date", "start"), moment_value(form, "end_date", "end")
    return await closing.preview_closure(db, actor, resource_id, start, end, now=now)


@post("/staff/resources/{resource_id:int}/closures/{closure_id:int}/remove", name="remove_closure")
async def remove_closure(request: Request, resource_id: int, closure_id: int, db: Db, viewer: Actor | None, now: datetime) -> Redirect:
    actor = staff(viewer)
    await posted(request)
    await catalogue.remove_closure(db, actor, resource_id, closure_id, now=now)
    return see_other(f"/staff/resources/{resource_id}/closures")


ROUTES = [staff_requests, decide, handovers, hand_over, overdue, staff_catalogue, closures, add_closure, remove_closure]
