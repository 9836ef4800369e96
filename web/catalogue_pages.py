"""Staff maintain the catalogue: every resource by place, a resource's details and rules edited, a resource retired."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import closures as closing
from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings
from people.actor import Actor, Duty, check_may
from resources import service as catalogue
from resources.rules import BookerKind, ResourceKind
from web import resource_form as shown
from web.frame import error_map, language_of, posted, render, see_other
from web.i18n import Speaker
from web.staff_frame import covered_again, decision_of, staff


@get("/staff/catalogue", name="staff_catalogue")
async def staff_catalogue(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    """Every resource, retired ones too, under its place, with a way to close the whole place: the places where the
    staff member keeps the catalogue or closes (all of them for an operator)."""
    actor = staff(viewer)
    by_place = defaultdict(list)
    for resource in await catalogue.list_resources(db, include_retired=True):
        if actor.may(Duty.CATALOGUE, resource.location_id) or actor.may(Duty.CLOSE, resource.location_id):
            by_place[resource.location_id].append(resource)
    places = [(loc, by_place[loc.id]) for loc in await catalogue.list_locations(db) if by_place.get(loc.id)]
    query = request.query_params
    return render(request, settings, actor, "staff/catalogue.html", places=places, done=query.get("done", ""), count=query.get("count", ""))


async def edit_page(
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
    check_may(actor, Duty.CATALOGUE, detail.resource.location_id)
    kind = shown.kind_of(detail)
    return render(
        request,
        settings,
        actor,
        "staff/resource_edit.html",
        status=status,
        errors=errors or {},
        values=shown.values_of(detail) if values is None else values,
        resource=detail.resource,
        kind=kind,
        count_field=catalogue.COUNT_OF[kind],
        lengths=shown.LENGTHS[kind],
        deadlines=shown.DEADLINES[kind],
        limits=shown.LIMITS[kind],
        features=shown.FEATURES_OF[kind],
        bookers=list(BookerKind),
        units=list(shown.UNITS),
        covered=covered or [],
        done=request.query_params.get("done", ""),
        count=request.query_params.get("count", ""),
    )


@get("/staff/resources/{resource_id:int}/edit", name="edit_resource")
async def edit_resource(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await edit_page(request, db, settings, staff(viewer), resource_id)


@post("/staff/resources/{resource_id:int}/edit", name="save_resource")
async def save_resource(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """The details and rules saved; a lower stock first shows the loans it can no longer hold, to cancel or keep."""
    actor = staff(viewer)
    form = await posted(request)
    detail = await catalogue.get_resource(db, resource_id)
    kind = shown.kind_of(detail)
    try:
        changes = shown.changes_of(form, detail)
        stock = changes.get("stock")
        if stock is not None and "seen" not in form and (covered := await closing.preview_stock(db, actor, resource_id, stock, now=now)):
            return await edit_page(request, db, settings, actor, resource_id, values=form, covered=covered)
        _, outcome = await closing.update_resource(db, actor, resource_id, changes, decision_of(form), form.get("reason", ""), now=now)
    except DomainError as refusal:
        # Only a lower stock asks about loans: the form's stock was read when the choice about them is refused.
        covered = await covered_again(refusal, lambda: closing.preview_stock(db, actor, resource_id, int(form["stock"]), now=now))
        errors = shown.refused(refusal, kind, Speaker(language_of(request, actor)))
        return await edit_page(request, db, settings, actor, resource_id, status=422, errors=errors, values=form, covered=covered)
    told = len(outcome.cancelled) + len(outcome.withdrawn)
    return see_other(f"/staff/resources/{resource_id}/edit?done={outcome.choice or 'saved'}&count={told}")


async def retire_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    resource_id: int,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    now: datetime,
) -> Template:
    detail = await catalogue.get_resource(db, resource_id)
    check_may(actor, Duty.CLOSE, detail.resource.location_id)
    covered = [] if detail.resource.retired_at else await closing.preview_retirement(db, actor, resource_id, now=now)
    return render(
        request,
        settings,
        actor,
        "staff/resource_retire.html",
        status=status,
        errors=errors or {},
        values=values or {},
        resource=detail.resource,
        loans=detail.resource.kind == ResourceKind.EQUIPMENT.value,
        covered=covered,
    )


@get("/staff/resources/{resource_id:int}/retire", name="retire_resource")
async def retire_resource(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    """Asks first: what retiring does, and the bookings still to come, to cancel or keep."""
    return await retire_page(request, db, settings, staff(viewer), resource_id, now=now)


@post("/staff/resources/{resource_id:int}/retire", name="confirm_retire")
async def confirm_retire(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = staff(viewer)
    form = await posted(request)
    try:
        _, outcome = await closing.retire_resource(db, actor, resource_id, decision_of(form), form.get("reason", ""), now=now)
    except DomainError as refusal:
        errors = error_map(refusal, "covered")
        return await retire_page(request, db, settings, actor, resource_id, status=422, errors=errors, values=form, now=now)
    told = len(outcome.cancelled) + len(outcome.withdrawn)
    return see_other(f"/staff/catalogue?done=retired&count={told}")


ROUTES = [staff_catalogue, edit_resource, save_resource, retire_resource, confirm_retire]
