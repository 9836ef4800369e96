"""Garden-bed seasons: residents apply, renew, wait and answer offers; staff move phases, draw, adjust and publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking.seasons import allocation
from booking.seasons import service as seasons
from booking.seasons.rules import ORDER, Phase, told
from booking.waitlists import offers
from booking.waitlists import service as waitlist
from infra.database import Db
from infra.errors import DomainError
from infra.settings import Settings
from people.actor import Actor
from people.rules import near_duplicates
from people.service import persons_by_id
from resources import service as catalogue
from resources.rules import ResourceKind
from web.frame import error_map, number_value, posted, render, see_other, signed_in
from web.staff_pages import staff


def wishes(form: dict[str, str]) -> dict:
    return {"beds": [], "raised": bool(form.get("raised")), "any": True}


def outcome_of(a: Any, beds: dict) -> tuple[str, dict] | None:
    """What a resident reads of their published outcome: its code's words with the bed's name, never the audit text."""
    bed = beds.get((a.outcome_params or {}).get("bed_id") or a.bed_id)
    return told(a.outcome, a.outcome_params or {}, bed=bed.name if bed else "")


async def garden_page(
    request: Request,
    db: Db,
    settings: Settings,
    viewer: Actor | None,
    *,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> Template:
    every = await seasons.list_seasons(db, kind=ResourceKind.GARDEN_BED)
    mine = {s.id: await seasons.applications(db, viewer, s.id) for s in every} if viewer else {}
    places = [p for p in await waitlist.my_places(db, viewer) if p.entry.season_id is not None] if viewer else []
    beds = {r.id: r for r in await catalogue.list_resources(db, kind="garden_bed")}
    published = {s.id for s in every if s.published_at is not None}  # a preview is staff's until it is published
    outcomes = {a.id: outcome_of(a, beds) for sid, rows in mine.items() if sid in published for a in rows}
    return render(
        request,
        settings,
        viewer,
        "garden.html",
        status=status,
        errors=errors or {},
        values=values or {},
        seasons=[s for s in every if s.phase not in ("draft", "closed")],
        mine=mine,
        places=places,
        beds=beds,
        outcomes=outcomes,
        done=request.query_params.get("done", ""),
    )


@get("/garden", name="garden")
async def garden(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await garden_page(request, db, settings, viewer)


@post("/garden/{season_id:int}/{step:str}", name="garden_step")
async def garden_step(
    request: Request, season_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Apply in the application window, keep one's bed in the renewal window, or wait for a bed after allocation."""
    actor = signed_in(viewer)
    form = await posted(request)
    address = {"street": form.get("street", ""), "postal_code": form.get("postal_code", "")}
    try:
        if step == "apply":
            await seasons.apply(db, actor, season_id, **address, preferences=wishes(form), now=now)
        elif step == "renew":
            await seasons.confirm_renewal(db, actor, season_id, now=now)
        else:
            await seasons.join_bed_waitlist(db, actor, season_id, **address, preferences=wishes(form), now=now)
    except DomainError as refusal:
        return await garden_page(request, db, settings, actor, status=422, errors=error_map(refusal, "street"), values=form)
    return see_other(f"/garden?done={step}")


@post("/offers/{booking_id:int}/{answer:str}", name="answer_offer")
async def answer_offer(
    request: Request, booking_id: int, answer: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    try:
        if answer == "accept":
            await offers.accept_offer(db, actor, booking_id, now=now)
        else:
            await offers.decline_offer(db, actor, booking_id, now=now)
    except DomainError as refusal:
        return await garden_page(request, db, settings, actor, status=422, errors=error_map(refusal, f"offer-{booking_id}"))
    return see_other(f"/garden?done={'accepted' if answer == 'accept' else 'declined'}")


# ---------------------------------------------------------------- staff


@get("/staff/seasons", name="staff_seasons")
async def staff_seasons(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    return render(request, settings, actor, "staff/seasons.html", seasons=await seasons.list_seasons(db, kind=ResourceKind.GARDEN_BED))


async def season_page(
    request: Request, db: Db, settings: Settings, actor: Actor, season_id: int, *, status: int = 200, errors: dict | None = None
) -> Template:
    season = await seasons.get_season(db, season_id)
    rows = await seasons.applications(db, actor, season_id)
    position = ORDER.index(Phase(season.phase))
    # One building under different flat numbers (or none): staff look twice before the draw.
    by_key = {}
    for row in rows:
        by_key.setdefault(row.household_key, []).append(row)
    doubles = [[r for key in group for r in by_key[key]] for group in near_duplicates(list(by_key))]
    return render(
        request,
        settings,
        actor,
        "staff/season.html",
        status=status,
        errors=errors or {},
        season=season,
        rows=rows,
        doubles=doubles,
        next_phase=ORDER[position + 1] if position + 1 < len(ORDER) else None,
        people=await persons_by_id(db, {r.person_id for r in rows}),
        beds={r.id: r for r in await catalogue.list_resources(db, kind="garden_bed")},
        done=request.query_params.get("done", ""),
    )


@get("/staff/seasons/{season_id:int}", name="staff_season")
async def staff_season(request: Request, season_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await season_page(request, db, settings, staff(viewer), season_id)


@post("/staff/seasons/{season_id:int}/{step:str}", name="season_step")
async def season_step(
    request: Request, season_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Move to the next phase, draw a preview, or publish the allocation."""
    actor = staff(viewer)
    form = await posted(request)
    try:
        if step == "phase":
            await seasons.move_phase(db, actor, season_id, Phase(form.get("phase", "")), now=now)
        elif step == "preview":
            await allocation.preview(db, actor, season_id, seed=number_value(form, "seed"), now=now)
        elif step == "publish":
            await allocation.publish(db, actor, season_id, now=now)
    except (DomainError, ValueError) as refusal:
        problem = error_map(refusal, "season") if isinstance(refusal, DomainError) else {"season": "This could not be done."}
        return await season_page(request, db, settings, actor, season_id, status=422, errors=problem)
    return see_other(f"/staff/seasons/{season_id}?done={step}")


@post("/staff/seasons/{season_id:int}/applications/{application_id:int}/adjust", name="adjust")
async def adjust(
    request: Request, season_id: int, application_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    actor = staff(viewer)
    form = await posted(request)
    try:
        bed = number_value(form, "bed_id")
        note, message = form.get("reason", ""), form.get("message_to_resident", "")
        await allocation.adjust(db, actor, season_id, application_id, bed_id=bed, reason=note, message_to_resident=message, now=now)
    except DomainError as refusal:
        return await season_page(
            request, db, settings, actor, season_id, status=422, errors={f"application-{application_id}": error_map(refusal, "reason")}
        )
    return see_other(f"/staff/seasons/{season_id}?done=adjusted")


ROUTES = [garden, garden_step, answer_offer, staff_seasons, staff_season, season_step, adjust]
