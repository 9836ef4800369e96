"""HTTP for garden-bed seasons: phases, renewals, applications, the allocation and its publication, beds given back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import get, post

from booking.representation import booking_json, local
from booking.seasons import allocation
from booking.seasons import service as seasons
from booking.seasons.rules import Phase
from booking.seasons.store import Season, SeasonApplication
from booking.waitlists import service as waitlist
from booking.waitlists.api import place_json
from infra.database import Db
from people.actor import Actor, Duty

Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class SeasonIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    start: datetime
    end: datetime
    previous_season_id: int | None = None
    district_postal_codes: list[str] | None = None
    household_limit: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    offer_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7
    applications_close: datetime | None = None  # the application deadline residents are told; applying after it is refused
    draw_at: datetime | None = None  # the day of the draw, told residents beforehand


class PhaseIn(msgspec.Struct, forbid_unknown_fields=True):
    phase: Phase


class Preferences(msgspec.Struct, forbid_unknown_fields=True):
    beds: Annotated[list[int], msgspec.Meta(max_length=20)] = []
    raised: bool = False
    any: bool = True


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    street: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    postal_code: Annotated[str, msgspec.Meta(max_length=10)]
    preferences: Preferences = msgspec.field(default_factory=Preferences)

    def wishes(self) -> dict:
        return msgspec.to_builtins(self.preferences)


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None


class AdjustIn(msgspec.Struct, forbid_unknown_fields=True):
    application_id: int
    bed_id: int | None
    reason: Reason = ""  # staff's note: kept on the record, never told the resident
    message_to_resident: Reason = ""  # the only words of an adjustment the resident reads


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""


def season_json(x: Season) -> dict[str, Any]:
    return {
        "id": x.id,
        "name": x.name,
        "kind": x.kind,
        "start": local(x.start),
        "end": local(x.end),
        "phase": x.phase,
        "previous_season_id": x.previous_season_id,
        "district_postal_codes": x.district_postal_codes,
        "household_limit": x.household_limit,
        "offer_days": x.offer_days,
        "seed": x.seed,
        "applications_close": local(x.applications_close),
        "draw_at": local(x.draw_at),
        "published_at": local(x.published_at),
    }


def application_json(a: SeasonApplication, *, for_staff: bool) -> dict[str, Any]:
    """Staff read the audit record (reason and their notes); a resident reads the outcome's code and parameters and
    any message staff wrote to them."""
    told = {"outcome": a.outcome or None, "outcome_params": a.outcome_params or {}, "message_to_resident": a.message_to_resident or None}
    audit = {"reason": a.reason or None, "adjust_reason": a.adjust_reason or None} if for_staff else {}
    return {
        "id": a.id,
        "season_id": a.season_id,
        "person_id": a.person_id,
        "kind": a.kind,
        "status": a.status,
        "street": a.street,
        "postal_code": a.postal_code,
        "household": a.household_key,
        "preferences": a.preferences,
        "tier": a.tier,
        "lottery_rank": a.lottery_rank,
        "bed_id": a.bed_id,
        **told,
        **audit,
        "booking_id": a.booking_id,
        "created_at": local(a.created_at),
    }


def run_json(season: Season, rows: list[SeasonApplication]) -> dict[str, Any]:
    ordered = sorted(rows, key=lambda a: (a.lottery_rank or 0, a.id))
    return {"season": season_json(season), "seed": season.seed, "items": [application_json(a, for_staff=True) for a in ordered]}


@post("/api/v1/seasons", summary="Staff: create a season (draft)")
async def create(data: SeasonIn, db: Db, actor: Actor, now: datetime) -> dict:
    season = await seasons.create_season(
        db,
        actor,
        name=data.name,
        start=data.start,
        end=data.end,
        previous_season_id=data.previous_season_id,
        district_postal_codes=data.district_postal_codes,
        household_limit=data.household_limit,
        offer_days=data.offer_days,
        now=now,
        applications_close=data.applications_close,
        draw_at=data.draw_at,
    )
    return season_json(season)


@get("/api/v1/seasons", summary="Seasons, newest first")
async def index(db: Db, actor: Actor) -> dict:
    return {"items": [season_json(x) for x in await seasons.list_seasons(db)]}


@get("/api/v1/seasons/{season_id:int}", summary="One season")
async def show(season_id: int, db: Db, actor: Actor) -> dict:
    return season_json(await seasons.get_season(db, season_id))


@post("/api/v1/seasons/{season_id:int}/phase", summary="Staff: move the season to its next phase", status_code=200)
async def phase(season_id: int, data: PhaseIn, db: Db, actor: Actor, now: datetime) -> dict:
    return season_json(await seasons.move_phase(db, actor, season_id, data.phase, now=now))


@post("/api/v1/seasons/{season_id:int}/renewal", summary="Keep my bed: confirm a renewal invitation", status_code=200)
async def renew(season_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    row = await seasons.confirm_renewal(db, actor, season_id, now=now)
    return application_json(row, for_staff=await seasons.reads_all(db, actor, season_id))


@post("/api/v1/seasons/{season_id:int}/applications", summary="Apply for a bed (one application per household)")
async def apply(season_id: int, data: ApplicationIn, db: Db, actor: Actor, now: datetime) -> dict:
    row = await seasons.apply(db, actor, season_id, street=data.street, postal_code=data.postal_code, preferences=data.wishes(), now=now)
    return application_json(row, for_staff=await seasons.reads_all(db, actor, season_id))


@get("/api/v1/seasons/{season_id:int}/applications", summary="Applications and renewals (staff: all; residents: their own)")
async def applications(season_id: int, db: Db, actor: Actor) -> dict:
    rows, for_staff = await seasons.applications(db, actor, season_id), await seasons.reads_all(db, actor, season_id)
    return {"items": [application_json(a, for_staff=for_staff) for a in rows]}


@post("/api/v1/seasons/{season_id:int}/allocation", summary="Staff: run (or re-run) the allocation as a preview", status_code=200)
async def run(season_id: int, db: Db, actor: Actor, now: datetime, data: RunIn | None = None) -> dict:
    season, rows = await allocation.preview(db, actor, season_id, seed=(data or RunIn()).seed, now=now)
    return run_json(season, rows)


@post(
    "/api/v1/seasons/{season_id:int}/allocation/adjust",
    summary="Staff: give an application another bed or none, with a reason (and, if wanted, a message to the resident)",
    status_code=200,
)
async def adjust(season_id: int, data: AdjustIn, db: Db, actor: Actor, now: datetime) -> dict:
    row = await allocation.adjust(
        db,
        actor,
        season_id,
        data.application_id,
        bed_id=data.bed_id,
        reason=data.reason,
        message_to_resident=data.message_to_resident,
        now=now,
    )
    return application_json(row, for_staff=True)


@post(
    "/api/v1/seasons/{season_id:int}/allocation/publish",
    summary="Staff: publish: offers out, results mailed, the rest wait",
    status_code=200,
)
async def publish(season_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    season, rows = await allocation.publish(db, actor, season_id, now=now)
    return run_json(season, rows)


@post("/api/v1/seasons/{season_id:int}/waitlist", summary="Wait for a bed this season")
async def wait(season_id: int, data: ApplicationIn, db: Db, actor: Actor, now: datetime) -> dict:
    place = await seasons.join_bed_waitlist(
        db, actor, season_id, street=data.street, postal_code=data.postal_code, preferences=data.wishes(), now=now
    )
    return place_json(place)


@post("/api/v1/seasons/{season_id:int}/beds/offer-free", summary="Staff: offer free (e.g. new) beds to the waitlist", status_code=200)
async def offer_free(season_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    await seasons.check_duty(db, actor, season_id, Duty.SEASON)
    await seasons.offer_free_beds(db, now=now)
    return {"items": [place_json(p) for p in await waitlist.line(db, actor, resource_id=None, season_id=season_id)]}


@post("/api/v1/seasons/{season_id:int}/holdings/{booking_id:int}/give-back", summary="Give my bed back for someone else", status_code=200)
async def give_back(season_id: int, booking_id: int, db: Db, actor: Actor, now: datetime, data: ReasonIn | None = None) -> dict:
    booking = await allocation.give_back(db, actor, season_id, booking_id, reason=(data or ReasonIn()).reason, revoke=False, now=now)
    return booking_json(booking)


@post("/api/v1/seasons/{season_id:int}/holdings/{booking_id:int}/revoke", summary="Staff: revoke a bed, with a reason", status_code=200)
async def revoke(season_id: int, booking_id: int, data: ReasonIn, db: Db, actor: Actor, now: datetime) -> dict:
    booking = await allocation.give_back(db, actor, season_id, booking_id, reason=data.reason, revoke=True, now=now)
    return booking_json(booking)


ROUTES = [create, index, show, phase, renew, apply, applications, run, adjust, publish, wait, offer_free, give_back, revoke]
