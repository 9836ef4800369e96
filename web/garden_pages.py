"""The garden page: residents read what happens next and how priority works, apply, change or withdraw, renew, wait
(and leave the line), answer offers, and give a bed back after saying so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking.seasons import allocation, growers
from booking.seasons import service as seasons
from booking.seasons.rules import DISTRICT_TIER, Phase, told
from booking.waitlists import offers
from booking.waitlists import service as waitlist
from booking.waitlists.rules import EntryStatus
from infra.database import Db
from infra.errors import DomainError, NotFound
from infra.settings import Settings
from people.actor import Actor
from resources import service as catalogue
from resources.rules import ResourceKind
from web.frame import error_map, posted, render, see_other, signed_in
from web.season_forms import deadline_words, last_day, outside_district

ADDRESSED = frozenset({"apply", "change", "wait"})  # steps that give an address, and so a priority tier
STILL_WAITING = frozenset({EntryStatus.WAITING.value, EntryStatus.OFFERED.value})  # a second place in the line is refused


def wishes(form: dict[str, str]) -> dict:
    return {"beds": [], "raised": bool(form.get("raised")), "any": True}


def outcome_of(a: Any, beds: dict) -> tuple[str, dict] | None:
    """What a resident reads of their published outcome: its code's words with the bed's name, never the audit text."""
    bed = beds.get((a.outcome_params or {}).get("bed_id") or a.bed_id)
    return told(a.outcome, a.outcome_params or {}, bed=bed.name if bed else "")


def taking(season: Any, now: datetime) -> bool:
    """Applications may be made, changed and withdrawn now."""
    closes = season.applications_close
    return season.phase == Phase.APPLICATIONS.value and (closes is None or now < closes)


async def garden_page(
    request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime, *, status: int = 200, **form: Any
) -> Template:
    """`form` refills a form: errors, values, the season whose form warns of the lower priority, the one being changed."""
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
        errors=form.get("errors") or {},
        values=form.get("values") or {},
        warn=form.get("warn"),
        editing=form.get("editing"),
        seasons=[s for s in every if s.phase not in ("draft", "closed")],
        taking={s.id for s in every if taking(s, now)},
        mine=mine,
        places=places,
        waiting={p.entry.season_id for p in places if p.entry.status in STILL_WAITING},
        district_tier=DISTRICT_TIER,
        held=await growers.beds_held(db, viewer) if viewer else {},
        beds=beds,
        outcomes=outcomes,
        deadline_words=deadline_words,
        last_day=last_day,
        done=request.query_params.get("done", ""),
    )


@get("/garden", name="garden")
async def garden(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template:
    return await garden_page(request, db, settings, viewer, now)


async def take_step(db: Db, actor: Actor, season_id: int, step: str, form: dict[str, str], now: datetime) -> None:
    address = {"street": form.get("street", ""), "postal_code": form.get("postal_code", ""), "preferences": wishes(form)}
    if step == "apply":
        await seasons.apply(db, actor, season_id, **address, now=now)
    elif step == "change":
        await growers.change_application(db, actor, season_id, **address, now=now)
    elif step == "withdraw":
        await growers.withdraw_application(db, actor, season_id, now=now)
    elif step == "renew":
        await seasons.confirm_renewal(db, actor, season_id, now=now)
    elif step == "wait":
        await seasons.join_bed_waitlist(db, actor, season_id, **address, now=now)
    else:
        raise NotFound("No such step", step=step)


@post("/garden/{season_id:int}/{step:str}", name="garden_step")
async def garden_step(
    request: Request, season_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Apply, change or withdraw in the application window, keep one's bed in the renewal window, or wait for a bed
    after allocation; an address outside the district is warned of its lower priority and must be confirmed."""
    actor = signed_in(viewer)
    form = await posted(request)
    editing = season_id if step == "change" else None
    season = await seasons.get_season(db, season_id)
    if step in ADDRESSED and not form.get("outside_ok") and outside_district(form, season.district_postal_codes):
        return await garden_page(request, db, settings, actor, now, status=422, values=form, warn=season_id, editing=editing)
    try:
        await take_step(db, actor, season_id, step, form, now)
    except DomainError as refusal:
        errors = error_map(refusal, f"withdraw-{season_id}" if step == "withdraw" else "street")
        return await garden_page(request, db, settings, actor, now, status=422, errors=errors, values=form, editing=editing)
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
        return await garden_page(request, db, settings, actor, now, status=422, errors=error_map(refusal, f"offer-{booking_id}"))
    return see_other(f"/garden?done={'accepted' if answer == 'accept' else 'declined'}")


@post("/garden/places/{entry_id:int}/leave", name="garden_leave")
async def leave(request: Request, entry_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = signed_in(viewer)
    await posted(request)
    try:
        await waitlist.leave(db, actor, entry_id, now=now)
    except DomainError as refusal:
        return await garden_page(request, db, settings, actor, now, status=422, errors=error_map(refusal, f"place-{entry_id}"))
    return see_other("/garden?done=left")


# ---------------------------------------------------------------- giving a bed back, after a page that asks first


async def give_back_page(
    request: Request, db: Db, settings: Settings, actor: Actor, season_id: int, booking_id: int, *, status: int = 200, errors: dict
) -> Template:
    booking = next((b for b in (await growers.beds_held(db, actor)).get(season_id, []) if b.id == booking_id), None)
    if booking is None:
        raise NotFound("You hold no such bed this season", booking_id=booking_id)
    bed = (await catalogue.get_resource(db, booking.resource_id)).resource
    season = await seasons.get_season(db, season_id)
    return render(
        request,
        settings,
        actor,
        "garden_give_back.html",
        status=status,
        errors=errors,
        booking=booking,
        bed=bed,
        season=season,
        last_day=last_day,
    )


@get("/garden/{season_id:int}/beds/{booking_id:int}/give-back", name="garden_give_back_ask")
async def give_back_ask(request: Request, season_id: int, booking_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await give_back_page(request, db, settings, signed_in(viewer), season_id, booking_id, errors={})


@post("/garden/{season_id:int}/beds/{booking_id:int}/give-back", name="garden_give_back")
async def give_back(
    request: Request, season_id: int, booking_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Only the asking page's "yes" gives the bed back: it cannot be taken again once the next in line is offered it."""
    actor = signed_in(viewer)
    form = await posted(request)
    if form.get("sure") != "1":
        return await give_back_page(request, db, settings, actor, season_id, booking_id, status=422, errors={})
    try:
        await allocation.give_back(db, actor, season_id, booking_id, reason=form.get("reason", "")[:1000], revoke=False, now=now)
    except DomainError as refusal:
        return await give_back_page(request, db, settings, actor, season_id, booking_id, status=422, errors=error_map(refusal, "sure"))
    return see_other("/garden?done=given_back")


ROUTES = [garden, garden_step, answer_offer, leave, give_back_ask, give_back]
