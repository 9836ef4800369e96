"""Use cases for a room season's round: staff set it up, associations' admins apply, edit, withdraw and ask to renew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus
from booking.seasons import room_board, room_store
from booking.seasons import store as season_store
from booking.seasons.places import (
    check_everywhere_in,
    check_season,
    check_somewhere,
    locations_of,
    may_everywhere_in,
    record_created,
    rooms_locations,
)
from booking.seasons.room_plans import ApplicationPlan, WishPlan, check_plan
from booking.seasons.room_rules import (
    HOLDS_A_SLOT,
    AdminsApply,
    ApplicationWindowClosed,
    NotARoomSeason,
    NotUsedEnough,
    Wish,
    WishStatus,
    check_no_fixed_overlap,
    check_wish_fits,
    was_used,
)
from booking.seasons.rules import DISTRICT_POSTAL_CODES, AlreadyApplied, Phase, check_phase
from booking.seasons.store import Season
from infra.database import Db
from infra.errors import InvalidInput, NotFound
from infra.time import local_datetime
from people.actor import Actor, Duty
from people.rules import check_postal_code
from resources import store as catalogue
from resources.rules import ResourceKind


@dataclass(frozen=True)
class RoundPlan:
    """A room season as staff set it up."""

    name: str
    first_day: date
    last_day: date
    room_ids: tuple[int, ...] = ()
    location_ids: tuple[int, ...] = ()  # every room at these locations
    applications_open: datetime | None = None
    applications_close: datetime | None = None
    holidays: tuple[tuple[str, date, date], ...] = ()
    hours_cap: float | None = None
    district_postal_codes: tuple[str, ...] | None = None
    renewal_share: float = 0.5
    confirm_days: int = 14
    previous_season_id: int | None = None


def _check_round(plan: RoundPlan) -> None:
    if not plan.first_day <= plan.last_day <= plan.first_day + timedelta(days=366):
        raise InvalidInput("A term runs forwards, for at most a year", field="last_day")
    if plan.applications_open and plan.applications_close and plan.applications_close <= plan.applications_open:
        raise InvalidInput("The application window closes after it opens", field="applications_close")
    for _, first, last in plan.holidays:
        if last < first:
            raise InvalidInput("A holiday ends on or after its first day", field="holidays")


async def _round_rooms(s: AsyncSession, plan: RoundPlan) -> list[int]:
    ids = list(dict.fromkeys(plan.room_ids))
    for location_id in plan.location_ids:
        await catalogue.get_location(s, location_id)
        found = await catalogue.find_resources(
            s, kind=ResourceKind.ROOM.value, location_id=location_id, min_capacity=None, include_retired=False
        )
        ids.extend(r.id for r in found if r.id not in ids)
    for room_id in ids:
        room = await catalogue.get_resource(s, room_id)
        if room.kind != ResourceKind.ROOM.value:
            raise InvalidInput(f"Resource {room_id} is not a room", field="room_ids")
    if not ids:
        raise InvalidInput("A room season has at least one room", field="room_ids")
    return ids


async def create_round(db: Db, actor: Actor, plan: RoundPlan, *, now: datetime) -> Season:
    """Staff set up a room season (draft): its term, rooms, holidays, cap, priority area and application window."""
    check_somewhere(actor, Duty.SEASON)
    _check_round(plan)
    codes = [
        check_postal_code(c) for c in (plan.district_postal_codes if plan.district_postal_codes is not None else DISTRICT_POSTAL_CODES)
    ]
    async with db.write() as s:
        if plan.previous_season_id is not None:
            await room_season(s, plan.previous_season_id)
        rooms = await _round_rooms(s, plan)
        locations = await rooms_locations(s, rooms)  # a round is where its rooms are: the role must reach every one
        check_everywhere_in(actor, Duty.SEASON, locations)
        season = Season(
            name=plan.name, kind=ResourceKind.ROOM.value, start=local_datetime(plan.first_day, time(0)),
            end=local_datetime(plan.last_day + timedelta(days=1), time(0)), previous_season_id=plan.previous_season_id,
            district_postal_codes=codes, offer_days=plan.confirm_days, rooms=rooms,
            holidays=[{"name": n, "first": a.isoformat(), "last": b.isoformat()} for n, a, b in plan.holidays],
            hours_cap=plan.hours_cap, applications_open=plan.applications_open, applications_close=plan.applications_close,
            renewal_share=plan.renewal_share, created_at=now, updated_at=now,
        )  # fmt: skip
        s.add(season)
        await s.flush()
        record_created(s, actor, season, locations, now=now)
        return season


async def room_season(s: AsyncSession, season_id: int, *, lock: bool = False) -> Season:
    season = await season_store.get_season(s, season_id, lock=lock)
    if season.kind != ResourceKind.ROOM.value:
        raise NotARoomSeason(season_id=season_id)
    return season


def check_window_open(season: Season, *, now: datetime) -> None:
    """Applications are taken in the applications phase, between the window's opening and closing."""
    opened = season.applications_open is None or season.applications_open <= now
    closed = season.applications_close is not None and now >= season.applications_close
    if Phase(season.phase) is not Phase.APPLICATIONS or not opened or closed:
        raise ApplicationWindowClosed(
            phase=season.phase, closes=season.applications_close.isoformat() if season.applications_close else None
        )


async def _check_wishes(s: AsyncSession, season: Season, plan: ApplicationPlan) -> None:
    term = room_board.term_of(season)
    rooms = await room_board.rooms_of(s, season, term)
    for n, wish in enumerate(plan.wishes):
        if wish.room_id is not None and wish.room_id not in rooms:
            raise InvalidInput(f"Room {wish.room_id} is not in this season", field=f"wishes[{n}].room_id")
        if wish.location_id is not None and not any(r.resource.location_id == wish.location_id for r in rooms.values()):
            raise InvalidInput(f"No room of this season at location {wish.location_id}", field=f"wishes[{n}].location_id")
        if wish.room_id is not None:
            check_wish_fits(_as_wish(n, wish), rooms[wish.room_id].open)
    check_no_fixed_overlap([_as_wish(n, w) for n, w in enumerate(plan.wishes)])


def _as_wish(n: int, plan: WishPlan) -> Wish:
    """The plan as the pure checks read it."""
    return Wish(n, 0, plan.activity, 0, n + 1, plan.minutes, plan.windows, (), plan.times, plan.every_weeks)


async def submit(db: Db, actor: Actor, season_id: int, association_id: int, plan: ApplicationPlan, *, now: datetime) -> int:
    """An association's admin applies, or edits the application, while the window is open: its wishes are ranked in
    the order given. Returns the application's id."""
    _check_admin_or_staff(actor, association_id)
    check_plan(plan)
    code = check_postal_code(plan.postal_code)
    try:
        async with db.write() as s:
            season = await room_season(s, season_id, lock=True)
            await _check_for(s, actor, association_id, season)
            check_window_open(season, now=now)
            await _check_wishes(s, season, plan)
            application = await room_store.application_of(s, season_id, association_id, lock=True)
            renewals = []
            if application is None:
                application = room_store.RoomApplication(
                    season_id=season_id, association_id=association_id, person_id=actor.person_id, created_at=now, updated_at=now
                )
            else:
                renewals = [w for w in await room_store.wishes_of(s, [application.id]) if w.renews_wish_id is not None]
                await room_store.delete_wishes_and_activities(s, application.id, keep={w.id for w in renewals})
            application.non_profit, application.postal_code, application.withdrawn_at = plan.non_profit, code, None
            application.person_id, application.updated_at = actor.person_id, now
            s.add(application)
            await s.flush()
            await _write_plan(s, season, application, plan, first_rank=len(renewals) + 1, now=now)
            return application.id
    except IntegrityError as exc:  # two admins' first applications raced: the unique key kept one
        raise AlreadyApplied(season_id=season_id) from exc


def _check_admin_or_staff(actor: Actor, association_id: int) -> None:
    """An association's admins apply for it; staff may, for any, where their season role reaches (`_check_for`)."""
    if not (actor.is_staff or actor.is_admin_of(association_id)):
        raise AdminsApply(association_id=association_id)


async def _check_for(s: AsyncSession, actor: Actor, association_id: int, season: Season) -> None:
    if not actor.is_admin_of(association_id):
        await check_season(s, actor, Duty.SEASON, season)


async def _write_plan(
    s: AsyncSession, season: Season, application: room_store.RoomApplication, plan: ApplicationPlan, *, first_rank: int, now: datetime
) -> None:
    activities = []
    for a in plan.activities:
        row = room_store.RoomActivity(
            application_id=application.id, name=a.name.strip(), age_band=a.age_band.value, participants=a.participants,
            under_20=a.under_20, responsible_name=a.responsible_name.strip(), responsible_phone=a.responsible_phone.strip(),
        )  # fmt: skip
        s.add(row)
        activities.append(row)
    await s.flush()
    for rank, w in enumerate(plan.wishes, start=first_rank):
        activity = activities[w.activity]
        s.add(
            room_store.RoomWish(
                application_id=application.id, activity_id=activity.id, rank=rank, room_id=w.room_id, location_id=w.location_id,
                min_seats=w.min_seats, features=list(w.features), minutes=w.minutes, times=w.times, every_weeks=w.every_weeks,
                windows=[{"weekday": x.weekday, "start": x.start, "end": x.end, "first_choice": x.first_choice} for x in w.windows],
                tier=int(room_board.tier_for(activity, application, season)), created_at=now, updated_at=now,
            )
        )  # fmt: skip


async def withdraw(db: Db, actor: Actor, season_id: int, association_id: int, *, now: datetime) -> None:
    """An admin withdraws the application while the window is open; it stays on record, out of the allocation."""
    _check_admin_or_staff(actor, association_id)
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        await _check_for(s, actor, association_id, season)
        check_window_open(season, now=now)
        application = await room_store.application_of(s, season_id, association_id, lock=True)
        if application is None or application.withdrawn_at is not None:
            raise NotFound("The association has no application in this season", season_id=season_id)
        application.withdrawn_at = application.updated_at = now
        s.add(application)


async def usage_of(s: AsyncSession, wish: room_store.RoomWish, *, now: datetime) -> tuple[int, int]:
    """Of a held slot's dates so far, how many were kept (not cancelled): the measure of 'actually used'."""
    bookings = [b for b in await room_store.series_bookings(s, list(wish.series_ids)) if b.start <= now]
    kept = sum(1 for b in bookings if b.status not in (BookingStatus.CANCELLED.value, BookingStatus.EXPIRED.value))
    return len(bookings), kept


async def renew(db: Db, actor: Actor, season_id: int, previous_wish_id: int, *, now: datetime) -> int:
    """Last term's holder asks to keep a slot in the renewal phase; granted first at allocation if it was used."""
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        check_phase(Phase(season.phase), Phase.RENEWAL)
        if season.previous_season_id is None:
            raise InvalidInput("This season follows no earlier one: there is nothing to renew", field="wish_id")
        old, old_application = await room_store.get_wish(s, season.previous_season_id, previous_wish_id)
        _check_admin_or_staff(actor, old_application.association_id)
        await _check_for(s, actor, old_application.association_id, season)
        if old.status not in {x.value for x in HOLDS_A_SLOT}:
            raise NotFound("That wish holds no slot last term", wish_id=previous_wish_id)
        dates, kept = await usage_of(s, old, now=now)
        if not was_used(dates, kept, season.renewal_share):
            raise NotUsedEnough(dates=dates, kept=kept, share=season.renewal_share)
        return await _renewal_wish(s, season, actor, old, old_application, now=now)


async def _renewal_wish(
    s: AsyncSession, season: Season, actor: Actor, old: room_store.RoomWish, old_application: room_store.RoomApplication, *, now: datetime
) -> int:
    application = await room_store.application_of(s, season.id, old_application.association_id, lock=True)
    if application is None:
        application = room_store.RoomApplication(
            season_id=season.id, association_id=old_application.association_id, person_id=actor.person_id,
            non_profit=old_application.non_profit, postal_code=old_application.postal_code, created_at=now, updated_at=now,
        )  # fmt: skip
        s.add(application)
        await s.flush()
    existing = await room_store.wishes_of(s, [application.id])
    if any(w.renews_wish_id == old.id for w in existing):
        raise AlreadyApplied(season_id=season.id, wish_id=old.id)
    activity = await s.get(room_store.RoomActivity, old.activity_id)
    copy = room_store.RoomActivity(
        **{k: getattr(activity, k) for k in ("name", "age_band", "participants", "under_20", "responsible_name", "responsible_phone")},
        application_id=application.id,
    )
    s.add(copy)
    await s.flush()
    slot = old.granted_slots[0]
    wish = room_store.RoomWish(
        application_id=application.id, activity_id=copy.id, rank=len(existing) + 1, room_id=slot.room, minutes=slot.minutes,
        times=1, every_weeks=slot.every_weeks, windows=[{"weekday": slot.weekday, "start": slot.start, "end": slot.start + slot.minutes, "first_choice": True}],
        renews_wish_id=old.id, tier=int(room_board.tier_for(copy, application, season)), created_at=now, updated_at=now,
    )  # fmt: skip
    s.add(wish)
    await s.flush()
    return wish.id


@dataclass(frozen=True)
class ApplicationView:
    application: room_store.RoomApplication
    activities: list[room_store.RoomActivity]
    wishes: list[room_store.RoomWish]


async def applications(db: Db, actor: Actor, season_id: int, *, association_id: int | None = None) -> list[ApplicationView]:
    """Staff see every application; an association's members see their own associations'."""
    async with db.read() as s:
        season = await room_season(s, season_id)
        reads_all = actor.is_staff and may_everywhere_in(actor, Duty.READ, await locations_of(s, season))
        mine = None if reads_all else set(actor.roles)
        if association_id is not None:
            mine = {association_id} if mine is None or association_id in mine else set()
        rows = await room_store.applications_of(s, season_id, associations=mine)
        ids = [a.id for a in rows]
        activities, wishes = await room_store.activities_of(s, ids), await room_store.wishes_of(s, ids)
    return [
        ApplicationView(a, [x for x in activities if x.application_id == a.id], [w for w in wishes if w.application_id == a.id])
        for a in rows
    ]


async def previous_holdings(db: Db, actor: Actor, season_id: int) -> list[tuple[room_store.RoomWish, room_store.RoomApplication]]:
    """Last term's held slots of the actor's associations (all, for staff): what may be asked to renew."""
    async with db.read() as s:
        season = await room_season(s, season_id)
        if season.previous_season_id is None:
            return []
        rows = await room_store.season_wishes(s, season.previous_season_id)
        reads_all = actor.is_staff and may_everywhere_in(actor, Duty.READ, await locations_of(s, season))
    return [(w, a) for w, a in rows if WishStatus(w.status) in HOLDS_A_SLOT and (reads_all or actor.is_member_of(a.association_id))]


async def list_rounds(db: Db) -> list[Season]:
    async with db.read() as s:
        query = select(Season).where(Season.kind == ResourceKind.ROOM.value).order_by(Season.start.desc(), Season.id.desc())
        return list((await s.execute(query)).scalars())


async def get_round(db: Db, season_id: int) -> Season:
    async with db.read() as s:
        return await room_season(s, season_id)
