"""Use cases for a room season's allocation: preview by rule, adjust with a reason, publish as held weekly series."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booking import series as weekly
from booking import store
from booking.rules import Booker, ReasonRequired
from booking.seasons import room_board, room_store
from booking.seasons.places import check_season, check_somewhere, record_phase
from booking.seasons.room_board import Room, Term
from booking.seasons.room_draw import Board, allocate
from booking.seasons.room_rules import PROPOSED, AlreadyPublished, Slot, WishStatus, slot_dates
from booking.seasons.room_service import room_season
from booking.seasons.room_store import RoomApplication, RoomWish
from booking.seasons.rules import NotPreviewed, Phase, check_phase
from booking.seasons.store import Season
from booking.store import BookingSeries
from booking.time_rules import weekly_occurrences
from booking.waitlists.rules import EntryStatus, WaitKind
from booking.waitlists.store import WaitlistEntry
from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from infra.errors import InvalidInput
from people.actor import Actor, Duty
from resources import store as catalogue
from resources.rules import BookerKind

Wishes = list[tuple[RoomWish, RoomApplication]]


async def _renewed_slot(s: AsyncSession, season: Season, row: RoomWish) -> Slot | None:
    if row.renews_wish_id is None or season.previous_season_id is None:
        return None
    old = await s.get(RoomWish, row.renews_wish_id)
    return old.granted_slots[0] if old is not None and old.slots else None


async def _setting(s: AsyncSession, season: Season) -> tuple[Term, dict[int, Room], Board]:
    term = room_board.term_of(season)
    rooms = await room_board.rooms_of(s, season, term)
    return term, rooms, await room_board.board_of(s, season, term, rooms)


async def preview(db: Db, actor: Actor, season_id: int, *, seed: int | None, now: datetime) -> tuple[Season, Wishes]:
    """Allocate (again) from a seed: the same seed, applications and bookings give the same proposal."""
    check_somewhere(actor, Duty.SEASON)
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        await check_season(s, actor, Duty.SEASON, season)
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        season.seed = secrets.randbelow(2**31) if seed is None else seed
        rows = await room_store.season_wishes(s, season_id)
        _, rooms, board = await _setting(s, season)
        wishes = [room_board.wish_of(w, a, rooms, await _renewed_slot(s, season, w)) for w, a in rows]
        for (row, _), decision in zip(rows, allocate(wishes, board, seed=season.seed), strict=True):
            row.decided(decision, now=now)
            s.add(row)
        season.updated_at = now
        s.add(season)
        return season, rows


async def adjust(
    db: Db, actor: Actor, season_id: int, wish_id: int, *, slots: list[Slot], reason: str, message: str, now: datetime
) -> RoomWish:
    """Staff move a wish to other times (or refuse it, with no slots), saying why: checked against every other grant
    and booking on every date of the term."""
    check_somewhere(actor, Duty.SEASON)
    if not reason.strip():
        raise ReasonRequired("An adjustment of the allocation must say why")
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        await check_season(s, actor, Duty.SEASON, season)
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        if season.seed is None:
            raise NotPreviewed()
        rows = await room_store.season_wishes(s, season_id)
        row, application = next(((w, a) for w, a in rows if w.id == wish_id), (None, None))
        if row is None:
            raise InvalidInput(f"No wish {wish_id} in this season", field="wish_id")
        _, rooms, board = await _setting(s, season)
        for other, owner in rows:
            if other.id != row.id and other.status == WishStatus.GRANTED.value:
                for slot in other.granted_slots:
                    board.take(slot, room_board.wish_of(other, owner, rooms))
        for slot in slots:
            if slot.room not in rooms:
                raise InvalidInput(f"Room {slot.room} is not in this season", field="room_id")
            board.check_may_take(slot, row.activity_id)
            board.take(slot, room_board.wish_of(row, application, rooms))
        before = _placed(row)
        row.adjust(slots, by=actor.person_id, note=reason.strip(), message=message.strip(), now=now)
        s.add(row)
        _record(s, Action.ALLOCATION_ADJUSTED, actor, season, (row, application), before, rooms, reason=reason.strip(), now=now)
        return row


def _placed(row: RoomWish) -> dict:
    """What the audit trail keeps of a wish's place in the allocation: its status, outcome and slots (rooms by id)."""
    return {"wish_id": row.id, "status": row.status, "outcome": row.outcome, "slots": list(row.slots), "priority": row.priority}


def _record(
    s: AsyncSession, action: Action, actor: Actor, season: Season, wish: tuple[RoomWish, RoomApplication], before: dict,
    rooms: dict[int, Room], *, reason: str, now: datetime,
) -> None:  # fmt: skip
    """One entry per wish: filed under the season, about the admin who applied, at its (first) room's place."""
    row, application = wish
    room_ids = [x["room"] for x in row.slots or before["slots"]]
    location_id = rooms[room_ids[0]].resource.location_id if room_ids and room_ids[0] in rooms else None
    after = _placed(row) | {"association_id": application.association_id}
    if action is Action.ALLOCATION_PUBLISHED:
        after |= {"series_ids": list(row.series_ids), "seed": season.seed}
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=season.id, location_id=location_id, subject_id=application.person_id,
        reason=reason, before=before, after=after,
    )  # fmt: skip


async def publish(db: Db, actor: Actor, season_id: int, *, now: datetime) -> tuple[Season, Wishes]:
    """Each granted wish becomes weekly series held for its association until it confirms; refused wishes wait in
    priority order for a slot given back; every association hears its result in one mail."""
    check_somewhere(actor, Duty.SEASON)
    async with db.write() as s:
        season = await room_season(s, season_id, lock=True)
        locations = await check_season(s, actor, Duty.SEASON, season)
        if season.published_at is not None:
            raise AlreadyPublished(season_id=season_id, published_at=season.published_at.isoformat())
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        rows = await room_store.season_wishes(s, season_id)
        if season.seed is None or any(WishStatus(w.status) not in PROPOSED for w, _ in rows):
            raise NotPreviewed()
        term = room_board.term_of(season)
        confirm_by = now + timedelta(days=season.offer_days)
        rooms = await room_board.rooms_of(s, season, term)
        for row, application in sorted(rows, key=lambda r: (r[0].priority or 0, r[0].id)):
            before = _placed(row)
            if row.status == WishStatus.GRANTED.value:
                await hold_slots(s, season, term, row, application, confirm_by=confirm_by, now=now)
            else:
                _wait_in_line(s, season, row, application, now=now)
            _record(s, Action.ALLOCATION_PUBLISHED, actor, season, (row, application), before, rooms, reason=row.reason, now=now)
        record_phase(s, actor, season, Phase.OFFERS, locations, now=now)
        names = {"rooms": {rid: r.resource.name for rid, r in rooms.items()}}
        names["activities"] = {x.id: x.name for x in await room_store.activities_of(s, sorted({a.id for _, a in rows}))}
        for application in {a.id: a for _, a in rows}.values():
            result = result_of(season, application, rows, names, confirm_by=confirm_by)
            outbox.record(s, "room_season_result", person_id=application.person_id, at=now, **result)
        season.phase, season.published_at, season.updated_at = Phase.OFFERS.value, now, now
        s.add(season)
        return season, rows


def result_of(
    season: Season, application: RoomApplication, rows: Wishes, names: dict[str, dict[int, str]], *, confirm_by: datetime
) -> dict:
    """What the association's mail says of each wish: its activity, outcome code and slots by room name; never the
    audit text. The words are chosen in the reader's language when the mail is written."""
    mine = [w for w, a in rows if a.id == application.id]
    return {
        "season_id": season.id,
        "season": season.name,
        "association_id": application.association_id,
        "path": f"/associations/{application.association_id}/room-seasons/{season.id}",
        "cap": season.hours_cap,
        "wishes": [
            {
                "rank": w.rank,
                "activity": names["activities"].get(w.activity_id, ""),
                "outcome": w.outcome,
                "slots": [{**x, "room_name": names["rooms"].get(x["room"], "")} for x in w.slots],
                "message": w.message,
            }
            for w in mine
        ],
        "deadline": confirm_by.isoformat(),
    }


async def hold_slots(
    s: AsyncSession, season: Season, term: Term, row: RoomWish, application: RoomApplication, *, confirm_by: datetime, now: datetime
) -> None:
    """Each slot of a wish held over the term as a weekly series, holidays listed as not booked; the association
    gets one recurring calendar invitation per series."""
    activity = await s.get(room_store.RoomActivity, row.activity_id)
    booker = Booker(application.person_id, BookerKind.ASSOCIATION, application.association_id)
    series_ids = []
    for slot in row.granted_slots:
        dates = [
            d for d in slot_dates(slot, term.first, term.last) if room_board.slot_start(slot, d)[0] > now
        ]  # a slot offered mid-term starts now
        if not dates:
            continue
        start, end = room_board.slot_start(slot, dates[0])
        occurrences = weekly_occurrences(start, end, every_weeks=slot.every_weeks, until=term.last)
        resource = await store.locked_resource(s, slot.room)
        policy = await catalogue.policy_of(s, resource)
        series = BookingSeries(
            resource_id=resource.id, person_id=application.person_id, association_id=application.association_id,
            title=activity.name, every_weeks=slot.every_weeks, until=term.last, created_at=now,
        )  # fmt: skip
        skip = {d: term.holiday_of(d) for d, _, _ in occurrences if term.holiday_of(d) is not None}
        held, refused = await weekly.hold_weekly_in(s, resource, policy, booker, occurrences, series, skip=skip, now=now)
        series_ids.append(series.id)
        if held:
            outbox.record(
                s, "room_slot_offered", person_id=application.person_id, booking_id=held[0].id, at=now, series_id=series.id,
                season_id=season.id, season=season.name, refused=len(refused), deadline=confirm_by.isoformat(),
                not_booked=[{"date": r.date.isoformat(), "code": r.code, "detail": r.detail} for r in refused],
            )  # fmt: skip
    row.series_ids, row.confirm_by = series_ids, confirm_by
    row.becomes(WishStatus.OFFERED, now=now)
    s.add(row)


def _wait_in_line(s: AsyncSession, season: Season, row: RoomWish, application: RoomApplication, *, now: datetime) -> None:
    """A refused wish waits, in the order the allocation decided it, for a slot given back."""
    row.becomes(WishStatus.WAITING, now=now)
    s.add(row)
    s.add(
        WaitlistEntry(
            kind=WaitKind.ROOM_SLOT.value, season_id=season.id, start=season.start, end=season.end, person_id=application.person_id,
            association_id=application.association_id, preferences={"wish_id": row.id}, tier=row.tier, position=row.priority or 0,
            status=EntryStatus.WAITING.value, joined_at=now, updated_at=now,
        )
    )  # fmt: skip


async def wish(db: Db, season_id: int, wish_id: int) -> RoomWish:
    async with db.read() as s:
        return (await room_store.get_wish(s, season_id, wish_id))[0]
