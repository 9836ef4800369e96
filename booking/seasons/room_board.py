"""A room season's term, rooms and board read from the database: what the pure allocation is given to work on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booking.seasons import room_store
from booking.seasons.room_draw import Board
from booking.seasons.room_rules import (
    DAY_MINUTES,
    HOLDS_A_SLOT,
    Slot,
    Tier,
    Window,
    Wish,
    WishStatus,
    open_by_weekday,
    span_mask,
    term_dates,
    tier_of,
    week_parity,
)
from booking.seasons.room_store import RoomActivity, RoomApplication, RoomWish
from booking.seasons.store import Season
from infra.time import OSLO, local_datetime
from resources import store as catalogue
from resources.rules import Policy
from resources.store import Resource


@dataclass(frozen=True)
class Term:
    first: date
    last: date
    holidays: tuple[tuple[date, date, str], ...]

    @property
    def dates(self) -> list[date]:
        return term_dates(self.first, self.last, [(a, b) for a, b, _ in self.holidays])

    def holiday_of(self, day: date) -> str | None:
        return next((name for a, b, name in self.holidays if a <= day <= b), None)


def term_of(season: Season) -> Term:
    """The season's local dates, its last day the one its end falls in, and its holiday weeks."""
    first = season.start.astimezone(OSLO).date()
    last = (season.end - timedelta(microseconds=1)).astimezone(OSLO).date()
    holidays = tuple((date.fromisoformat(h["first"]), date.fromisoformat(h["last"]), h.get("name", "")) for h in season.holidays or [])
    return Term(first, last, holidays)


@dataclass(frozen=True)
class Room:
    resource: Resource
    policy: Policy
    open: dict[int, int]  # weekday → minutes open on every term date


async def rooms_of(s: AsyncSession, season: Season, term: Term) -> dict[int, Room]:
    rooms = {}
    for resource in await room_store.rooms_of(s, list(season.rooms or [])):
        policy = await catalogue.policy_of(s, resource)
        rooms[resource.id] = Room(resource, policy, open_by_weekday(policy.windows, term.dates))
    return rooms


def fitting(row: RoomWish, rooms: dict[int, Room]) -> tuple[int, ...]:
    """The named room, or the location's rooms with the seats and features asked: smallest first, to keep big rooms free."""
    if row.room_id is not None:
        return (row.room_id,) if row.room_id in rooms else ()
    wanted = set(row.features or [])
    found = [
        r.resource
        for r in rooms.values()
        if r.resource.location_id == row.location_id and (r.resource.capacity or 0) >= row.min_seats and wanted <= set(r.resource.features)
    ]
    return tuple(x.id for x in sorted(found, key=lambda x: (x.capacity or 0, x.id)))


def tier_for(activity: RoomActivity, application: RoomApplication, season: Season) -> Tier:
    return tier_of(
        participants=activity.participants,
        under_20=activity.under_20,
        non_profit=application.non_profit,
        postal_code=application.postal_code,
        district=season.district_postal_codes,
    )


def wish_of(row: RoomWish, application: RoomApplication, rooms: dict[int, Room], renews: Slot | None = None) -> Wish:
    windows = tuple(Window(w["weekday"], w["start"], w["end"], w.get("first_choice", True)) for w in row.windows)
    return Wish(
        row.id, application.association_id, row.activity_id, row.tier, row.rank, row.minutes, windows, fitting(row, rooms),
        row.times, row.every_weeks, renews,
    )  # fmt: skip


def _mark(busy: dict, room: int, day: date, term: Term, start: int, end: int) -> None:
    key = (room, day.weekday(), week_parity(day, term.first))
    busy[key] = busy.get(key, 0) | span_mask(start, end - start)


def busy_of(bookings: list, term: Term) -> dict[tuple[int, int, int], int]:
    """The minutes booked outside the round, per room, weekday and week parity, over the term's dates."""
    dates, busy = set(term.dates), {}
    for booking in bookings:
        start, end = booking.start.astimezone(OSLO), booking.end.astimezone(OSLO)
        day = start.date()
        while day <= end.date():
            if day in dates:
                low = start.hour * 60 + start.minute if day == start.date() else 0
                high = end.hour * 60 + end.minute if day == end.date() else DAY_MINUTES
                if high > low:
                    _mark(busy, booking.resource_id, day, term, low, high)
            day += timedelta(days=1)
    return busy


async def board_of(
    s: AsyncSession, season: Season, term: Term, rooms: dict[int, Room], *, holdings: list[tuple[RoomWish, RoomApplication]] = ()
) -> Board:
    """Open minutes, bookings outside the round, and the slots the season's held wishes already count (cap, activity)."""
    held_series = {i for wish, _ in holdings for i in wish.series_ids}
    bookings = [b for b in await room_store.bookings_in(s, list(rooms), season.start, season.end) if b.series_id not in held_series]
    cap = season.hours_cap * 60 if season.hours_cap is not None else None
    board = Board({(rid, wd): bits for rid, room in rooms.items() for wd, bits in room.open.items()}, busy_of(bookings, term), cap)
    for wish, application in holdings:
        if WishStatus(wish.status) in HOLDS_A_SLOT:
            for slot in wish.granted_slots:
                board.take(slot, wish_of(wish, application, rooms))
    return board


def slot_start(slot: Slot, day: date) -> tuple[datetime, datetime]:
    """A slot's time on one date, in UTC, at the same Oslo wall-clock time whatever the daylight saving."""
    end_minute = slot.start + slot.minutes
    end_day, end_minute = (day + timedelta(days=1), 0) if end_minute == DAY_MINUTES else (day, end_minute)
    return local_datetime(day, time(slot.start // 60, slot.start % 60)), local_datetime(end_day, time(end_minute // 60, end_minute % 60))
