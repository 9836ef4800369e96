"""HTTP for room seasons: staff set up a round; associations apply, renew, confirm and give back; staff allocate."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, post, put

from booking.representation import local
from booking.seasons import room_allocation, room_answers, room_report
from booking.seasons import room_service as rounds
from booking.seasons import service as seasons
from booking.seasons.room_plans import ActivityPlan, ApplicationPlan, WishPlan
from booking.seasons.room_rules import AgeBand, Slot, Window, minutes_of
from booking.seasons.room_service import ApplicationView, RoundPlan
from booking.seasons.room_store import RoomWish
from booking.seasons.store import Season
from infra.database import Db
from people.actor import Actor
from people.associations import list_associations

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


class HolidayIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    first: date
    last: date


class RoundIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    first_day: date
    last_day: date
    room_ids: Annotated[list[int], msgspec.Meta(max_length=200)] = []
    location_ids: Annotated[list[int], msgspec.Meta(max_length=50)] = []
    applications_open: datetime | None = None
    applications_close: datetime | None = None
    holidays: Annotated[list[HolidayIn], msgspec.Meta(max_length=20)] = []
    hours_cap: Annotated[float, msgspec.Meta(gt=0, le=168)] | None = None
    district_postal_codes: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None
    renewal_share: Annotated[float, msgspec.Meta(ge=0, lt=1)] = 0.5
    confirm_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 14
    previous_season_id: int | None = None

    def plan(self) -> RoundPlan:
        return RoundPlan(
            self.name, self.first_day, self.last_day, tuple(self.room_ids), tuple(self.location_ids), self.applications_open,
            self.applications_close, tuple((h.name, h.first, h.last) for h in self.holidays), self.hours_cap,
            tuple(self.district_postal_codes) if self.district_postal_codes is not None else None, self.renewal_share,
            self.confirm_days, self.previous_season_id,
        )  # fmt: skip


class WindowIn(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    start: Clock
    end: Clock
    first_choice: bool = True


class WishIn(msgspec.Struct, forbid_unknown_fields=True):
    activity: Annotated[int, msgspec.Meta(ge=0, le=20)]
    minutes: Annotated[int, msgspec.Meta(ge=15, le=600)]
    windows: Annotated[list[WindowIn], msgspec.Meta(min_length=1, max_length=7)]
    room_id: int | None = None
    location_id: int | None = None
    min_seats: Count = 0
    features: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=10)] = []
    times: Annotated[int, msgspec.Meta(ge=1, le=3)] = 1
    every_weeks: Literal[1, 2] = 1


class ResponsibleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    age_band: AgeBand
    participants: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    under_20: Count
    responsible: ResponsibleIn


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    postal_code: Annotated[str, msgspec.Meta(max_length=10)]
    activities: Annotated[list[ActivityIn], msgspec.Meta(min_length=1, max_length=10)]
    wishes: Annotated[list[WishIn], msgspec.Meta(min_length=1, max_length=20)]
    non_profit: bool = False

    def plan(self) -> ApplicationPlan:
        activities = tuple(
            ActivityPlan(a.name, a.age_band, a.participants, a.under_20, a.responsible.name, a.responsible.phone) for a in self.activities
        )
        wishes = tuple(
            WishPlan(
                w.activity, w.minutes, tuple(Window(x.weekday, minutes_of(x.start), minutes_of(x.end), x.first_choice) for x in w.windows),
                w.room_id, w.location_id, w.min_seats, tuple(w.features), w.times, w.every_weeks,
            )
            for w in self.wishes
        )  # fmt: skip
        return ApplicationPlan(self.non_profit, self.postal_code, activities, wishes)


class RenewIn(msgspec.Struct, forbid_unknown_fields=True):
    wish_id: int


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None


class SlotIn(msgspec.Struct, forbid_unknown_fields=True):
    room_id: int
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    start: Clock
    every_weeks: Literal[1, 2] | None = None
    parity: Literal[0, 1] = 0


class AdjustIn(msgspec.Struct, forbid_unknown_fields=True):
    wish_id: int
    slots: Annotated[list[SlotIn], msgspec.Meta(max_length=3)]
    reason: Reason = ""
    message: Reason = ""


class GiveBackIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slot_out(slot: dict) -> dict[str, Any]:
    s = Slot(**slot)
    return {
        "room_id": s.room,
        "weekday": s.weekday,
        "start": _clock(s.start),
        "end": _clock(s.start + s.minutes),
        "every_weeks": s.every_weeks,
        "parity": s.parity,
    }


def round_json(x: Season) -> dict[str, Any]:
    return {
        "id": x.id, "name": x.name, "kind": x.kind, "phase": x.phase, "start": local(x.start), "end": local(x.end),
        "room_ids": x.rooms, "holidays": x.holidays, "hours_cap": x.hours_cap, "applications_open": local(x.applications_open),
        "applications_close": local(x.applications_close), "district_postal_codes": x.district_postal_codes,
        "renewal_share": x.renewal_share, "confirm_days": x.offer_days, "previous_season_id": x.previous_season_id,
        "seed": x.seed, "published_at": local(x.published_at),
    }  # fmt: skip


def wish_json(w: RoomWish, *, for_staff: bool) -> dict[str, Any]:
    audit = (
        {"reason": w.reason or None, "adjust_reason": w.adjust_reason or None, "priority": w.priority, "round": w.round}
        if for_staff
        else {}
    )
    return {
        "id": w.id, "rank": w.rank, "activity_id": w.activity_id, "room_id": w.room_id, "location_id": w.location_id,
        "min_seats": w.min_seats, "features": w.features, "minutes": w.minutes, "times": w.times, "every_weeks": w.every_weeks,
        "windows": [{**x, "start": _clock(x["start"]), "end": _clock(x["end"])} for x in w.windows],
        "renews_wish_id": w.renews_wish_id, "tier": w.tier, "status": w.status, "outcome": w.outcome or None,
        "slots": [slot_out(x) for x in w.slots], "message": w.message or None, "confirm_by": local(w.confirm_by),
        "series_ids": w.series_ids, **audit,
    }  # fmt: skip


def application_json(v: ApplicationView, *, for_staff: bool) -> dict[str, Any]:
    """The responsible adult's phone is for staff only; the audit text too."""
    a = v.application
    return {
        "id": a.id, "season_id": a.season_id, "association_id": a.association_id, "non_profit": a.non_profit,
        "postal_code": a.postal_code, "withdrawn": a.withdrawn_at is not None,
        "activities": [
            {"id": x.id, "name": x.name, "age_band": x.age_band, "participants": x.participants, "under_20": x.under_20,
             "responsible": {"name": x.responsible_name, "phone": x.responsible_phone} if for_staff else None}
            for x in v.activities
        ],
        "wishes": [wish_json(w, for_staff=for_staff) for w in v.wishes],
    }  # fmt: skip


async def _one(db: Db, actor: Actor, season_id: int, association_id: int) -> dict:
    views = await rounds.applications(db, actor, season_id, association_id=association_id)
    return application_json(views[0], for_staff=await seasons.reads_all(db, actor, season_id))


@post("/api/v1/room-seasons", summary="Staff: set up a room season (draft): term, rooms, holidays, cap, application window")
async def create(data: RoundIn, db: Db, actor: Actor, now: datetime) -> dict:
    return round_json(await rounds.create_round(db, actor, data.plan(), now=now))


@get("/api/v1/room-seasons", summary="Room seasons, newest first")
async def index(db: Db, actor: Actor) -> dict:
    return {"items": [round_json(x) for x in await rounds.list_rounds(db)]}


@get("/api/v1/room-seasons/{season_id:int}", summary="One room season")
async def show(season_id: int, db: Db, actor: Actor) -> dict:
    return round_json(await rounds.get_round(db, season_id))


@put("/api/v1/room-seasons/{season_id:int}/applications/{association_id:int}", summary="An association's admin applies or edits")
async def submit(season_id: int, association_id: int, data: ApplicationIn, db: Db, actor: Actor, now: datetime) -> dict:
    await rounds.submit(db, actor, season_id, association_id, data.plan(), now=now)
    return await _one(db, actor, season_id, association_id)


@delete("/api/v1/room-seasons/{season_id:int}/applications/{association_id:int}", summary="Withdraw the application", status_code=204)
async def withdraw(season_id: int, association_id: int, db: Db, actor: Actor, now: datetime) -> None:
    await rounds.withdraw(db, actor, season_id, association_id, now=now)


@get("/api/v1/room-seasons/{season_id:int}/applications", summary="Applications (staff: all; members: their associations')")
async def applications(season_id: int, db: Db, actor: Actor) -> dict:
    return await _all(db, actor, season_id)


@post("/api/v1/room-seasons/{season_id:int}/renewals", summary="Ask to keep last term's slot (renewal phase)")
async def renew(season_id: int, data: RenewIn, db: Db, actor: Actor, now: datetime) -> dict:
    await rounds.renew(db, actor, season_id, data.wish_id, now=now)
    return await _all(db, actor, season_id)


async def _all(db: Db, actor: Actor, season_id: int) -> dict:
    views, for_staff = await rounds.applications(db, actor, season_id), await seasons.reads_all(db, actor, season_id)
    return {"items": [application_json(v, for_staff=for_staff) for v in views]}


def _proposal(season: Season, rows: list) -> dict:
    return {
        "season": round_json(season),
        "seed": season.seed,
        "items": [{**wish_json(w, for_staff=True), "association_id": a.association_id} for w, a in rows],
    }


@post("/api/v1/room-seasons/{season_id:int}/allocation", summary="Staff: allocate by rule (or again, with another seed)", status_code=200)
async def run(season_id: int, db: Db, actor: Actor, now: datetime, data: RunIn | None = None) -> dict:
    return _proposal(*await room_allocation.preview(db, actor, season_id, seed=(data or RunIn()).seed, now=now))


@post("/api/v1/room-seasons/{season_id:int}/allocation/adjust", summary="Staff: move a wish or refuse it, with a reason", status_code=200)
async def adjust(season_id: int, data: AdjustIn, db: Db, actor: Actor, now: datetime) -> dict:
    wish = await room_allocation.wish(db, season_id, data.wish_id)
    slots = [Slot(x.room_id, x.weekday, minutes_of(x.start), wish.minutes, x.every_weeks or wish.every_weeks, x.parity) for x in data.slots]
    row = await room_allocation.adjust(db, actor, season_id, data.wish_id, slots=slots, reason=data.reason, message=data.message, now=now)
    return wish_json(row, for_staff=True)


@post(
    "/api/v1/room-seasons/{season_id:int}/allocation/publish",
    summary="Staff: publish: slots held as series, results mailed",
    status_code=200,
)
async def publish(season_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    return _proposal(*await room_allocation.publish(db, actor, season_id, now=now))


@post("/api/v1/room-seasons/{season_id:int}/wishes/{wish_id:int}/confirm", summary="An admin keeps the slot given", status_code=200)
async def confirm(season_id: int, wish_id: int, db: Db, actor: Actor, now: datetime) -> dict:
    row = await room_answers.confirm(db, actor, season_id, wish_id, now=now)
    return wish_json(row, for_staff=await seasons.reads_all(db, actor, season_id))


@post("/api/v1/room-seasons/{season_id:int}/wishes/{wish_id:int}/give-back", summary="An admin gives a slot back", status_code=200)
async def give_back(season_id: int, wish_id: int, db: Db, actor: Actor, now: datetime, data: GiveBackIn | None = None) -> dict:
    row = await room_answers.give_back(db, actor, season_id, wish_id, reason=(data or GiveBackIn()).reason, now=now)
    return wish_json(row, for_staff=await seasons.reads_all(db, actor, season_id))


@get("/api/v1/room-seasons/{season_id:int}/report", summary="Staff: hours allocated per tier, target group, association and room")
async def report(season_id: int, db: Db, actor: Actor) -> dict:
    r = await room_report.report(db, actor, season_id)
    return {
        "season_id": r.season_id, "hours_by_tier": {str(k): v for k, v in r.by_tier.items()}, "hours_by_target_group": r.by_age_band,
        "hours_by_association": {str(k): v for k, v in r.by_association.items()}, "first_wishes": r.first_wishes,
        "first_wishes_granted": r.first_wishes_granted, "first_wish_share": r.first_wish_share,
        "rooms": [{"room_id": u.room_id, "name": u.name, "allocated_hours": u.allocated_hours, "open_hours": u.open_hours, "share": u.share} for u in r.rooms],
    }  # fmt: skip


@get("/api/v1/room-seasons/{season_id:int}/report.csv", summary="Staff: the report as CSV", media_type="text/csv")
async def report_csv(season_id: int, db: Db, actor: Actor) -> Response:
    r = await room_report.report(db, actor, season_id)
    out = io.StringIO()
    csv.writer(out).writerows(room_report.report_csv_rows(r, {a.id: a.name for a in await list_associations(db, actor)}))
    return Response(
        out.getvalue(), media_type="text/csv", headers={"content-disposition": f'attachment; filename="room-season-{season_id}.csv"'}
    )


ROUTES = [create, index, show, submit, withdraw, applications, renew, run, adjust, publish, confirm, give_back, report, report_csv]
