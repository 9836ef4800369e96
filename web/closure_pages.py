"""Staff close a resource, or a whole place with all its resources, for a period; asked first about what that covers."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import closures as closing
from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings
from people.actor import Actor, Duty, check_may
from resources import service as catalogue
from web.frame import error_map, moment_value, posted, render, see_other
from web.staff_frame import covered_again, decision_of, staff


def period_of(form: dict[str, str]) -> tuple[datetime, datetime]:
    """The closure's start and end, wall-clock times in Oslo from its date and time fields."""
    return moment_value(form, "start_date", "start"), moment_value(form, "end_date", "end")


def closure_errors(refusal: DomainError) -> dict[str, str]:
    """The refusal beside its field; a closure the rules find invalid (it ends before it starts) beside its end."""
    return {("end" if field == "closures" else field): said for field, said in error_map(refusal, "end").items()}


def done_query(outcome: closing.Outcome, **more: int) -> str:
    """What the page says once saved: the choice made, and how many bookers were told."""
    told = len(outcome.cancelled) + len(outcome.withdrawn)
    return f"done={outcome.choice or 'closed'}&count={told}" + "".join(f"&{k}={v}" for k, v in more.items())


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
    check_may(actor, Duty.READ, detail.resource.location_id)  # those who read there see it; closing checks CLOSE
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
        start, end = period_of(form)
        if "seen" not in form and (covered := await closing.preview_closure(db, actor, resource_id, start, end, now=now)):
            return await closures_page(request, db, settings, actor, resource_id, values=form, covered=covered)
        _, outcome = await closing.add_closure(db, actor, resource_id, start, end, form.get("reason", ""), decision_of(form), now=now)
    except DomainError as refusal:
        covered = await covered_again(refusal, lambda: closing.preview_closure(db, actor, resource_id, *period_of(form), now=now))
        errors = closure_errors(refusal)
        return await closures_page(request, db, settings, actor, resource_id, status=422, errors=errors, values=form, covered=covered)
    return see_other(f"/staff/resources/{resource_id}/closures?{done_query(outcome)}")


@post("/staff/resources/{resource_id:int}/closures/{closure_id:int}/remove", name="remove_closure")
async def remove_closure(request: Request, resource_id: int, closure_id: int, db: Db, viewer: Actor | None, now: datetime) -> Redirect:
    actor = staff(viewer)
    await posted(request)
    await catalogue.remove_closure(db, actor, resource_id, closure_id, now=now)
    return see_other(f"/staff/resources/{resource_id}/closures")


# ---------------------------------------------------------------- a whole place


async def place_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    location_id: int,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    covered: list[closing.Covered] | None = None,
) -> Template:
    check_may(actor, Duty.READ, location_id)
    location = await catalogue.get_location(db, location_id)
    resources = await catalogue.list_resources(db, location_id=location_id)
    return render(
        request,
        settings,
        actor,
        "staff/location_closures.html",
        status=status,
        errors=errors or {},
        values=values or {},
        location=location,
        resources=resources,
        names={r.id: r.name for r in resources},
        covered=covered or [],
        done=request.query_params.get("done", ""),
        count=request.query_params.get("count", ""),
        closed=request.query_params.get("closed", ""),
    )


@get("/staff/locations/{location_id:int}/closures", name="place_closures")
async def place_closures(request: Request, location_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await place_page(request, db, settings, staff(viewer), location_id)


async def place_covered(db: Db, actor: Actor, location_id: int, form: dict[str, str], *, now: datetime) -> list[closing.Covered]:
    _, covered = await closing.preview_location_closure(db, actor, location_id, *period_of(form), now=now)
    return covered


@post("/staff/locations/{location_id:int}/closures", name="close_place")
async def close_place(
    request: Request, location_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Every resource of the place closed for the period with one reason; what that covers is shown first, to cancel
    or keep, and nothing is saved until staff choose."""
    actor = staff(viewer)
    form = await posted(request)
    try:
        start, end = period_of(form)
        if "seen" not in form and (covered := await place_covered(db, actor, location_id, form, now=now)):
            return await place_page(request, db, settings, actor, location_id, values=form, covered=covered)
        reason = form.get("reason", "")
        saved, outcome = await closing.close_location(db, actor, location_id, start, end, reason, decision_of(form), now=now)
    except DomainError as refusal:
        covered = await covered_again(refusal, lambda: place_covered(db, actor, location_id, form, now=now))
        errors = closure_errors(refusal)
        return await place_page(request, db, settings, actor, location_id, status=422, errors=errors, values=form, covered=covered)
    return see_other(f"/staff/locations/{location_id}/closures?{done_query(outcome, closed=len(saved))}")


ROUTES = [closures, add_closure, remove_closure, place_closures, close_place]
