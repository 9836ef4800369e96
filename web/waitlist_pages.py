"""Waiting lists for rooms and equipment: join for a taken time, see one's place, leave, and answer offers."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking.waitlists import offers
from booking.waitlists import service as waitlist
from booking.waitlists.rules import EntryStatus, OfferOutcome
from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings
from people.actor import Actor
from resources import service as catalogue
from resources.rules import ResourceKind
from web.booking_pages import wanted_of
from web.frame import error_map, posted, render, see_other, signed_in
from web.pages import resource_names, today

MY_WAITLISTS = "/my/waitlists"


async def wait_form(
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
) -> Template:
    detail = await catalogue.get_resource(db, resource_id)
    defaults = {"date": today(now).isoformat(), "end_date": today(now).isoformat(), "quantity": "1"}
    return render(
        request,
        settings,
        viewer,
        "wait.html",
        status=status,
        resource=detail.resource,
        errors=errors or {},
        values={**defaults, **(values or {})},
        is_loan=detail.resource.kind == ResourceKind.EQUIPMENT,
    )


@get("/resources/{resource_id:int}/wait", name="wait_form")
async def wait_page(request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await wait_form(request, db, settings, signed_in(viewer), resource_id, now)


@post("/resources/{resource_id:int}/wait", name="join_waitlist")
async def join_waitlist(
    request: Request, resource_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Wait for a room time or for units of an item that are taken; the service says when it is free instead."""
    actor = signed_in(viewer)
    form = await posted(request)
    detail = await catalogue.get_resource(db, resource_id)
    try:
        wanted = wanted_of(form, resource_id, detail.resource.kind == ResourceKind.EQUIPMENT)
        await waitlist.join(db, actor, wanted, now=now)
    except DomainError as refusal:
        return await wait_form(request, db, settings, actor, resource_id, now, status=422, errors=error_map(refusal), values=form)
    return see_other(f"{MY_WAITLISTS}?done=joined")


async def waitlists_page(
    request: Request, db: Db, settings: Settings, viewer: Actor, now: datetime, *, status: int = 200, errors: dict | None = None
) -> Template:
    """Lines for rooms and items only: garden beds are waited for on the garden page."""
    places = [p for p in await waitlist.my_places(db, viewer) if p.entry.season_id is None]
    offered = [p for p in places if p.offer is not None and p.offer.outcome == OfferOutcome.OPEN]
    waiting = [p for p in places if p.entry.status == EntryStatus.WAITING.value]
    return render(
        request,
        settings,
        viewer,
        "my_waitlists.html",
        status=status,
        errors=errors or {},
        offered=offered,
        waiting=waiting,
        resources=await resource_names(db),
        done=request.query_params.get("done", ""),
    )


@get(MY_WAITLISTS, name="my_waitlists")
async def my_waitlists(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await waitlists_page(request, db, settings, signed_in(viewer), now)


@post(MY_WAITLISTS + "/{entry_id:int}/leave", name="leave_waitlist")
async def leave_waitlist(
    request: Request, entry_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    try:
        await waitlist.leave(db, actor, entry_id, now=now)
    except DomainError as refusal:
        return await waitlists_page(request, db, settings, actor, now, status=422, errors={f"entry-{entry_id}": error_map(refusal)})
    return see_other(f"{MY_WAITLISTS}?done=left")


@post(MY_WAITLISTS + "/offers/{booking_id:int}/{answer:str}", name="answer_waitlist_offer")
async def answer(
    request: Request, booking_id: int, answer: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Accept (the held time becomes one's booking) or decline (it passes to the next in line)."""
    actor = signed_in(viewer)
    await posted(request)
    try:
        if answer == "accept":
            booking = await offers.accept_offer(db, actor, booking_id, now=now)
        else:
            booking = await offers.decline_offer(db, actor, booking_id, now=now)
    except DomainError as refusal:
        return await waitlists_page(request, db, settings, actor, now, status=422, errors={f"offer-{booking_id}": error_map(refusal)})
    if answer == "accept":
        return see_other(f"/my/bookings?done={booking.status}")
    return see_other(f"{MY_WAITLISTS}?done=declined")


ROUTES = [wait_page, join_waitlist, my_waitlists, leave_waitlist, answer]
