"""Room seasons for staff: set up a round, move it through its phases, read every application, allocate by rule and
see the proposal as a week grid per room, adjust a wish with a reason, publish, and the report."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking.seasons import room_allocation, room_report
from booking.seasons import room_service as rounds
from booking.seasons import service as seasons
from booking.seasons.rules import Phase
from infra.database import Db
from infra.errors import DomainError, ErrorCode, Forbidden, NotFound
from infra.i18n import N_
from infra.settings import Settings
from people import associations as memberships
from people.actor import Actor, Duty
from people.service import persons_by_id
from resources import service as catalogue
from web.frame import language_of, posted, render, see_other
from web.i18n import Speaker
from web.refusals import FALLBACK, field_of, message_for, message_of
from web.room_season_forms import HOLIDAY_ROWS, ROUND_FIELDS, ROUND_WORDS, read_round, read_slots
from web.room_season_words import AGE_BANDS, HELD, NOT_GIVEN, TIERS, Words, round_of, week_grid
from web.staff_pages import staff

MOVES = {
    Phase.RENEWAL: [("applications", N_("Close renewals and open for applications"))],
    Phase.APPLICATIONS: [("allocation", N_("Close applications and start the allocation"))],
    Phase.OFFERS: [("running", N_("Mark the term as running"))],
    Phase.RUNNING: [("closed", N_("Close the season"))],
}
STAFF_STATUS = {
    "applied": N_("Applied"),
    "granted": N_("Granted in the proposal"),
    "refused": N_("Not granted in the proposal"),
    "offered": N_("Offered, not yet confirmed"),
    "confirmed": N_("Confirmed"),
    "given_back": N_("Given back"),
    "lapsed": N_("Not confirmed in time"),
    "waiting": N_("Waiting in line for a time given back"),
}


def moves_of(season: object) -> list[tuple[str, str]]:
    phase = Phase(season.phase)
    if phase is Phase.DRAFT:
        renewal = [("renewal", N_("Open the renewal window"))] if season.previous_season_id else []
        return [*renewal, ("applications", N_("Open for applications") if not renewal else N_("Skip renewals and open for applications"))]
    return MOVES.get(phase, [])


async def rounds_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, status: int = 200, errors: dict | None = None, values: dict | None = None
) -> Template:
    rooms = await catalogue.list_resources(db, kind="room")
    places = [(loc, [r for r in rooms if r.location_id == loc.id]) for loc in await catalogue.list_locations(db)]
    return render(
        request,
        settings,
        actor,
        "staff/room_seasons.html",
        status=status,
        errors=errors or {},
        values={"confirm_days": "14", "renewal_share": "50", **(values or {})},
        rounds=await rounds.list_rounds(db),
        places=[(loc, found) for loc, found in places if found],
        holiday_rows=HOLIDAY_ROWS,
    )


@get("/staff/room-seasons", name="staff_room_seasons")
async def staff_rounds(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await rounds_page(request, db, settings, staff(viewer))


@post("/staff/room-seasons", name="staff_create_room_season")
async def create_round(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    actor = staff(viewer)
    form = await posted(request)
    plan, errors = read_round(form)
    if plan is not None:
        try:
            season = await rounds.create_round(db, actor, plan, now=now)
            return see_other(f"/staff/room-seasons/{season.id}?done=created")
        except DomainError as refusal:
            where = ROUND_FIELDS.get(field_of(refusal, ""), "previous")
            errors = {
                where: ROUND_WORDS.get(where, message_of(refusal)) if refusal.code == ErrorCode.INVALID_INPUT else message_of(refusal)
            }
    return await rounds_page(request, db, settings, actor, status=422, errors=errors, values=form)


async def season_page(
    request: Request,
    db: Db,
    settings: Settings,
    actor: Actor,
    season_id: int,
    *,
    status: int = 200,
    errors: dict | None = None,
    problem: str = "",
    values: dict | None = None,
    open_wish: int | None = None,
    holders: str = "",
) -> Template:
    await seasons.check_duty(db, actor, season_id, Duty.READ)  # staff read a round where their role reads
    round_ = await round_of(db, season_id)
    views = await rounds.applications(db, actor, season_id)
    names = {a.id: a.name for a in await memberships.list_associations(db, actor)}
    activities = {x.id: x for v in views for x in v.activities}
    standing = [v for v in views if v.application.withdrawn_at is None]
    entries: dict[int, list] = {room_id: [] for room_id in round_.rooms}
    for v in standing:
        for w in v.wishes:
            for slot in w.granted_slots if w.status in HELD else []:
                label = (names.get(v.application.association_id, ""), activities[w.activity_id].name)
                entries.setdefault(slot.room, []).append((slot, label))
    season = round_.season
    return render(
        request,
        settings,
        actor,
        "staff/room_season.html",
        status=status,
        errors=errors or {},
        problem=problem,
        values=values or {},
        round=round_,
        season=season,
        views=views,
        names=names,
        activities=activities,
        people=await persons_by_id(db, {v.application.person_id for v in views}),
        grids=[(room, week_grid(round_, room.id, entries.get(room.id, []))) for room in round_.rooms.values()],
        not_given=[(w, v) for v in standing for w in v.wishes if w.status in NOT_GIVEN],
        moves=moves_of(season),
        may_adjust=season.phase == "allocation" and season.seed is not None,
        open_wish=open_wish,
        holders=holders,
        words=Words(Speaker(language_of(request, actor)), round_),
        age_bands=AGE_BANDS,
        tiers=TIERS,
        staff_status=STAFF_STATUS,
        done=request.query_params.get("done", ""),
    )


@get("/staff/room-seasons/{season_id:int}", name="staff_room_season")
async def staff_round(request: Request, season_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await season_page(request, db, settings, staff(viewer), season_id)


@post("/staff/room-seasons/{season_id:int}/{step:str}", name="staff_room_season_step")
async def season_step(
    request: Request, season_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Move to the next phase, allocate (again, from a seed), or publish once staff say they have checked."""
    actor = staff(viewer)
    form = await posted(request)
    try:
        if step == "phase":
            await seasons.move_phase(db, actor, season_id, Phase(form.get("phase", "")), now=now)
        elif step == "preview":
            seed = form.get("seed", "")
            if seed and not seed.isdigit():
                return await season_page(
                    request, db, settings, actor, season_id, status=422, errors={"seed": message_for(ErrorCode.INVALID_NUMBER)}
                )
            await room_allocation.preview(db, actor, season_id, seed=int(seed) if seed else None, now=now)
        elif step == "publish":
            if not form.get("sure"):
                return await season_page(request, db, settings, actor, season_id, status=422, errors={"sure": ROUND_WORDS["sure"]})
            await room_allocation.publish(db, actor, season_id, now=now)
        else:
            raise NotFound("No such step", step=step)
    except ValueError:
        return await season_page(request, db, settings, actor, season_id, status=422, problem=FALLBACK)
    except Forbidden:  # not this staff member's season: the refusal page, not the season's
        raise
    except DomainError as refusal:
        return await season_page(request, db, settings, actor, season_id, status=422, problem=message_of(refusal))
    return see_other(f"/staff/room-seasons/{season_id}?done={step}")


@post("/staff/room-seasons/{season_id:int}/wishes/{wish_id:int}/adjust", name="staff_room_adjust")
async def adjust(
    request: Request, season_id: int, wish_id: int, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Move a wish to other times or refuse it, with a reason for the record and perhaps a message to the association;
    a time another grant or booking holds on some date of the term is refused, and nothing is written."""
    actor = staff(viewer)
    form = await posted(request)
    wish = await room_allocation.wish(db, season_id, wish_id)
    errors: dict[str, str] = {}
    slots = read_slots(form, wish, errors)
    p, holders = f"w{wish_id}-", ""
    if not errors:
        try:
            await room_allocation.adjust(
                db, actor, season_id, wish_id, slots=slots, reason=form.get(p + "reason", "")[:1000],
                message=form.get(p + "message", "")[:1000], now=now,
            )  # fmt: skip
            return see_other(f"/staff/room-seasons/{season_id}?done=adjusted#wish-{wish_id}")
        except Forbidden:
            raise
        except DomainError as refusal:
            if refusal.code == ErrorCode.SEASON_SLOT_TAKEN:
                k = next(
                    (
                        i
                        for i, s in enumerate(slots)
                        if s.room == refusal.extra.get("room_id") and s.weekday == refusal.extra.get("weekday")
                    ),
                    0,
                )
                errors[f"{p}room-{k}"] = message_of(refusal)
                holders = await _holders(db, actor, season_id, refusal.extra.get("held_by") or [])
            elif refusal.code == ErrorCode.REASON_REQUIRED:
                errors[p + "reason"] = message_of(refusal)
            elif refusal.code == ErrorCode.INVALID_INPUT:
                errors[p + "room-0"] = ROUND_WORDS["slot"]
            else:
                return await season_page(request, db, settings, actor, season_id, status=422, problem=message_of(refusal))
    return await season_page(
        request, db, settings, actor, season_id, status=422, errors=errors, values=form, open_wish=wish_id, holders=holders
    )


async def _holders(db: Db, actor: Actor, season_id: int, wish_ids: list[int]) -> str:
    """Who holds a taken time: the associations and activities of the grants in the way (none: a booking outside the round)."""
    names = {a.id: a.name for a in await memberships.list_associations(db, actor)}
    found = []
    for v in await rounds.applications(db, actor, season_id):
        acts = {x.id: x.name for x in v.activities}
        found += [f"{names.get(v.application.association_id, '')} – {acts.get(w.activity_id, '')}" for w in v.wishes if w.id in wish_ids]
    return "; ".join(found)


@get("/staff/room-seasons/{season_id:int}/report", name="staff_room_report")
async def report(request: Request, season_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    actor = staff(viewer)
    season = await rounds.get_round(db, season_id)
    found = await room_report.report(db, actor, season_id)
    names = {a.id: a.name for a in await memberships.list_associations(db, actor)}
    return render(
        request, settings, actor, "staff/room_report.html", season=season, report=found, names=names, tiers=TIERS, age_bands=AGE_BANDS
    )


ROUTES = [staff_rounds, create_round, staff_round, season_step, adjust, report]
