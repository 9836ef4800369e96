"""Borrowing a kit (a tent, tables and chairs) in one form: every part or none, and a refusal names the part that is short."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking import availability
from booking.loans import service as loans
from booking.rules import BookingStatus
from infra.database import Db
from infra.errors import DomainError, NotFound
from infra.settings import Settings
from people import associations as memberships
from people.actor import Actor
from resources import service as catalogue
from web.frame import language_of, moment_value, number_value, posted, render, see_other, signed_in
from web.i18n import Speaker
from web.pages import today
from web.refusals import said_errors
from web.rule_words import Fact, hours_facts, length_facts

FIELDS = ("date", "start", "end_date", "end")
STOCK_CODES = frozenset({"insufficient_stock", "more_than_stock"})  # then every part's count is shown


async def kit_of(db: Db, kit_id: int) -> tuple[Any, list[tuple[Any, Any]]]:
    for kit, items in await catalogue.list_kits(db):
        if kit.id == kit_id:
            return kit, items
    raise NotFound(f"No kit {kit_id}", kit_id=kit_id)


async def free_then(db: Db, items: list[tuple[Any, Any]], start: datetime, end: datetime, now: datetime) -> dict[int, int]:
    """Each part's units free all through the asked time (at its busiest instant), to show every part that is short."""
    free = {}
    for _, resource in items:
        found = await availability.free_intervals(db, resource.id, start, end, now=now)
        free[resource.id] = min((n for _, n in found.units or []), default=resource.stock or 0)
    return free


def short_part(refusal: DomainError, items: list[tuple[Any, Any]]) -> dict[str, Any] | None:
    """The part the refusal names ("Klappbord"), and how many of it the kit needs."""
    named = refusal.extra.get("resource_id")
    return next(({"name": r.name, "needs": item.quantity} for item, r in items if r.id == named), None)


def placed(refusal: DomainError, speak: Speaker) -> dict[str, str]:
    """The refusal with its numbers beside the field it concerns, when the form has that field; else above the form."""
    errors = said_errors(refusal, speak)
    return errors if set(errors) <= {*FIELDS, "association_id"} else {"form": next(iter(errors.values()))}


async def rules_of(db: Db, items: list[tuple[Any, Any]], speak: Speaker, now: datetime) -> list[Fact]:
    """The lending point's hours, and the strictest part's limits: the kit is lent as its most demanding part allows."""
    policies = [(await catalogue.get_resource(db, resource.id)).policy for _, resource in items]
    if not policies:
        return []
    strictest = min(policies, key=lambda p: p.max_loan)
    return [*hours_facts(policies[0], speak, today=today(now), is_loan=True), *length_facts(strictest, speak, is_loan=True)]


async def kit_form(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    kit_id: int,
    now: datetime,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    short: dict | None = None,
    free: dict | None = None,
) -> Template:
    kit, items = await kit_of(db, kit_id)
    mine = [a for a in await memberships.list_associations(db, actor) if actor.is_member_of(a.id)]
    speak = Speaker(language_of(request, actor))
    day = today(now).isoformat()
    return render(
        request,
        settings,
        actor,
        "kit.html",
        status=status,
        kit=kit,
        items=items,
        location=await catalogue.get_location(db, kit.location_id),
        associations=mine,
        rules=await rules_of(db, items, speak, now),
        errors=errors or {},
        values={"date": day, "end_date": day, **(values or {})},
        short=short,
        free=free,
    )


@get("/kits/{kit_id:int}/borrow", name="kit")
async def show(request: Request, kit_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await kit_form(request, db, settings, signed_in(viewer), kit_id, now)


@post("/kits/{kit_id:int}/borrow", name="borrow_kit")
async def borrow(request: Request, kit_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = signed_in(viewer)
    form = await posted(request)
    _, items = await kit_of(db, kit_id)
    try:
        start, end = moment_value(form, "date", "start"), moment_value(form, "end_date", "end")
    except DomainError as unreadable:
        errors = placed(unreadable, Speaker(language_of(request, actor)))
        return await kit_form(request, db, settings, actor, kit_id, now, status=422, errors=errors, values=form)
    try:
        association, title = number_value(form, "association_id"), form.get("title", "")
        rows = await loans.create_kit_loan(db, actor, kit_id, start, end, association_id=association, title=title, now=now)
    except DomainError as refusal:
        free = await free_then(db, items, start, end, now) if str(refusal.code) in STOCK_CODES else None
        errors = placed(refusal, Speaker(language_of(request, actor)))
        return await kit_form(
            request, db, settings, actor, kit_id, now, status=422, errors=errors, values=form, short=short_part(refusal, items), free=free
        )
    waiting = any(r.status == BookingStatus.REQUESTED for r in rows)  # a part staff approve makes the whole loan wait for them
    return see_other("/my/bookings?done=" + ("requested" if waiting else "confirmed"))


ROUTES = [show, borrow]
