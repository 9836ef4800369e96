"""Garden-bed seasons for staff: set one up, move it through its phases (asking first where that cannot be undone),
draw, adjust and publish; the residents' garden page is web/garden_pages.py."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get, post
from litestar.response import Redirect, Template

from booking.seasons import allocation, growers
from booking.seasons import service as seasons
from booking.seasons.rules import ORDER, Phase
from infra.database import Db
from infra.errors import DomainError, Forbidden
from infra.settings import Settings
from people.actor import Actor, Duty
from people.rules import near_duplicates
from people.service import persons_by_id
from resources import service as catalogue
from resources.rules import ResourceKind
from web import garden_pages
from web.frame import error_map, number_value, posted, render, see_other
from web.season_forms import DEFAULTS, SURE_WORDS, deadline_words, last_day, must_confirm, read_season, season_refusal
from web.staff_pages import staff

# ---------------------------------------------------------------- staff


async def seasons_page(
    request: Request, db: Db, settings: Settings, actor: Actor, *, status: int = 200, errors: dict | None = None, values: dict | None = None
) -> Template:
    every = await seasons.list_seasons(db, kind=ResourceKind.GARDEN_BED)
    return render(
        request,
        settings,
        actor,
        "staff/seasons.html",
        status=status,
        errors=errors or {},
        values={**DEFAULTS, **(values or {})},
        seasons=every,
    )


@get("/staff/seasons", name="staff_seasons")
async def staff_seasons(request: Request, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await seasons_page(request, db, settings, staff(viewer))


@post("/staff/seasons", name="staff_create_season")
async def create_season(request: Request, db: Db, settings: Settings, viewer: Actor | None, now: datetime) -> Template | Redirect:
    """A new garden season, as a draft: its dates, deadline and draw, the district that comes first, its limits."""
    actor = staff(viewer)
    form = await posted(request)
    plan, errors = read_season(form)
    if plan is not None:
        try:
            season = await seasons.create_season(db, actor, **plan, now=now)
            return see_other(f"/staff/seasons/{season.id}?done=created")
        except DomainError as refusal:
            errors = season_refusal(refusal)
    return await seasons_page(request, db, settings, actor, status=422, errors=errors, values=form)


async def season_page(
    request: Request, db: Db, settings: Settings, actor: Actor, season_id: int, *, status: int = 200, errors: dict | None = None
) -> Template:
    await seasons.check_duty(db, actor, season_id, Duty.READ)  # staff read a season where their role reads
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
        unanswered=await growers.unanswered_offers(db, season_id) if season.phase == Phase.OFFERS.value else 0,
        last_day=last_day,
        deadline_words=deadline_words,
        people=await persons_by_id(db, {r.person_id for r in rows}),
        beds={r.id: r for r in await catalogue.list_resources(db, kind="garden_bed")},
        done=request.query_params.get("done", ""),
    )


@get("/staff/seasons/{season_id:int}", name="staff_season")
async def staff_season(request: Request, season_id: int, db: Db, settings: Settings, viewer: Actor | None) -> Template:
    return await season_page(request, db, settings, staff(viewer), season_id)


async def must_ask(db: Db, season_id: int, step: str, form: dict[str, str]) -> bool:
    """Publishing always asks; a phase move asks when it closes the season or leaves offers unanswered (counted now)."""
    if step == "publish":
        return True
    wanted = Phase(form.get("phase", ""))  # not a phase: ValueError, answered as the page's refusal
    return must_confirm(wanted, await growers.unanswered_offers(db, season_id) if wanted is Phase.RUNNING else 0)


@post("/staff/seasons/{season_id:int}/{step:str}", name="season_step")
async def season_step(
    request: Request, season_id: int, step: str, db: Db, settings: Settings, viewer: Actor | None, now: datetime
) -> Template | Redirect:
    """Move to the next phase, draw a preview, or publish the allocation; publishing, closing and running on while
    offers wait for answers happen only once staff have ticked the box that says they mean it."""
    actor = staff(viewer)
    form = await posted(request)
    try:
        if step in SURE_WORDS and not form.get("sure") and await must_ask(db, season_id, step, form):
            return await season_page(request, db, settings, actor, season_id, status=422, errors={f"sure-{step}": SURE_WORDS[step]})
        if step == "phase":
            await seasons.move_phase(db, actor, season_id, Phase(form.get("phase", "")), now=now)
        elif step == "preview":
            await allocation.preview(db, actor, season_id, seed=number_value(form, "seed"), now=now)
        elif step == "publish":
            await allocation.publish(db, actor, season_id, now=now)
    except Forbidden:  # not this staff member's season: the refusal page, not the season's
        raise
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
    except Forbidden:
        raise
    except DomainError as refusal:
        return await season_page(
            request, db, settings, actor, season_id, status=422, errors={f"application-{application_id}": error_map(refusal, "reason")}
        )
    return see_other(f"/staff/seasons/{season_id}?done=adjusted")


ROUTES = [*garden_pages.ROUTES, staff_seasons, create_season, staff_season, season_step, adjust]
