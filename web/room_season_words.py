"""What the room-season pages share: a round with its rooms and term, and its wishes, slots and outcomes in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from booking.seasons import room_service as rounds
from booking.seasons.room_rules import (
    DAY_MINUTES,
    WEEKDAY_WORDS,
    Slot,
    open_by_weekday,
    slot_told,
    term_dates,
    told,
)
from infra.database import Db
from infra.errors import DomainError
from infra.i18n import N_
from infra.settings import TIMEZONE
from resources import service as catalogue
from web.i18n import Speaker

AGE_BANDS = {
    "children": N_("Children (up to 12)"),
    "youth": N_("Youth (13–19)"),
    "adults": N_("Adults"),
    "seniors": N_("Seniors"),
    "all_ages": N_("All ages"),
}
TIERS = {
    0: N_("Kept from last term"),
    1: N_("Tier 1: children and youth"),
    2: N_("Tier 2: non-profit associations based in the district"),
    3: N_("Tier 3: others"),
}
HELD = frozenset({"granted", "offered", "confirmed"})  # a wish shown in the week grid
NOT_GIVEN = frozenset({"refused", "waiting"})


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def spans(mask: int) -> list[tuple[int, int]]:
    """The stretches of a day's minute mask, as (start, end) minutes."""
    found, minute = [], 0
    while minute < DAY_MINUTES:
        if mask >> minute & 1:
            start = minute
            while minute < DAY_MINUTES and mask >> minute & 1:
                minute += 1
            found.append((start, minute))
        else:
            minute += 1
    return found


@dataclass(frozen=True)
class Round:
    """A room season as its pages show it: term, holidays, rooms with the hours they are open on every term date."""

    season: Any
    first: date
    last: date
    holidays: list[tuple[str, date, date]]
    rooms: dict[int, Any]  # id -> Resource
    locations: dict[int, Any]
    open: dict[int, dict[int, int]] = field(default_factory=dict)  # room -> weekday -> minute mask

    @property
    def published(self) -> bool:
        return self.season.published_at is not None

    def room_locations(self) -> list[tuple[Any, list[Any]]]:
        """The season's rooms by location, in the catalogue's order."""
        by_place: dict[int, list[Any]] = {}
        for room in self.rooms.values():
            by_place.setdefault(room.location_id, []).append(room)
        return [(place, by_place[lid]) for lid, place in self.locations.items() if lid in by_place]

    def open_hours(self, room_id: int) -> range:
        """The hours of the day the room is open at some time of the week: the rows of its week grid."""
        found = [s for mask in self.open.get(room_id, {}).values() for s in spans(mask)]
        if not found:
            return range(0)
        return range(min(a for a, _ in found) // 60, -(-max(b for _, b in found) // 60))

    def is_open(self, room_id: int, weekday: int, hour: int) -> bool:
        return bool(self.open.get(room_id, {}).get(weekday, 0) >> (hour * 60) & ((1 << 60) - 1))


async def round_of(db: Db, season_id: int) -> Round:
    season = await rounds.get_round(db, season_id)
    first = season.start.astimezone(TIMEZONE).date()
    last = (season.end - timedelta(microseconds=1)).astimezone(TIMEZONE).date()
    holidays = [(h.get("name", ""), date.fromisoformat(h["first"]), date.fromisoformat(h["last"])) for h in season.holidays or []]
    dates = term_dates(first, last, [(a, b) for _, a, b in holidays])
    rooms, masks = {}, {}
    for room_id in season.rooms or []:
        try:
            detail = await catalogue.get_resource(db, room_id)
        except DomainError:  # a room removed from the catalogue since
            continue
        rooms[room_id] = detail.resource
        masks[room_id] = open_by_weekday(detail.policy.windows, dates)
    locations = {loc.id: loc for loc in await catalogue.list_locations(db)}
    return Round(season, first, last, holidays, rooms, locations, masks)


def window_state(season: Any, now: datetime) -> str:
    """Whether applications are taken now: "open", "soon" (not yet opened) or "closed"."""
    try:
        rounds.check_window_open(season, now=now)
    except DomainError:
        if season.phase == "applications" and season.applications_open and now < season.applications_open:
            return "soon"
        return "closed"
    return "open"


class Words:
    """A round's wishes, slots and outcomes as a person reads them, in the page's language."""

    def __init__(self, speak: Speaker, round_: Round) -> None:
        self.speak, self.round = speak, round_

    def weekday(self, weekday: int) -> str:
        return self.speak(WEEKDAY_WORDS[weekday])

    def short_weekday(self, weekday: int) -> str:
        return self.speak.locale.days["format"]["abbreviated"][weekday]

    def room(self, room_id: int | None) -> str:
        room = self.round.rooms.get(room_id)
        return room.name if room else "–"

    def slot(self, slot: dict | Slot) -> str:
        slot = slot if isinstance(slot, Slot) else Slot(**slot)
        message, values = slot_told(slot)
        return self.speak(message, weekday=self.weekday(slot.weekday), room=self.room(slot.room), **values)

    def slots(self, wish: Any) -> str:
        return "; ".join(self.slot(s) for s in wish.slots)

    def outcome(self, wish: Any) -> str:
        """The outcome's words, never the audit text; empty before the allocation."""
        message = told(wish.outcome) if wish.outcome else None
        if message is None:
            return ""
        cap = self.round.season.hours_cap
        return self.speak(message, slots=self.slots(wish), cap=self.speak.number(cap or 0))

    def window(self, window: dict) -> str:
        choice = self.speak(N_("first choice")) if window.get("first_choice", True) else self.speak(N_("also fine"))
        return f"{self.weekday(window['weekday'])} {clock(window['start'])}–{clock(window['end'])} ({choice})"

    def length(self, minutes: int) -> str:
        """Hours and minutes kept on one line: "2 t", "1 t 30 min"."""
        hours, rest = divmod(minutes, 60)
        if not rest:
            said = self.speak(N_("{hours} h"), hours=hours)
        elif hours:
            said = self.speak(N_("{hours} h {minutes} min"), hours=hours, minutes=rest)
        else:
            said = self.speak(N_("{minutes} min"), minutes=rest)
        return said.replace(" ", "\u00a0")

    def where(self, wish: Any) -> str:
        if wish.room_id is not None:
            return self.room(wish.room_id)
        place = self.round.locations.get(wish.location_id)
        name = place.name if place else "–"
        if wish.min_seats:
            return self.speak(N_("Any room at {place} with at least {seats} seats"), place=name, seats=wish.min_seats)
        return self.speak(N_("Any room at {place}"), place=name)

    def wish(self, wish: Any) -> str:
        """What a wish asks for, in one line."""
        often = self.speak(N_("every other week")) if wish.every_weeks == 2 else self.speak(N_("every week"))
        times = self.speak(N_("{count} times a week"), count=wish.times) if wish.times > 1 else ""
        windows = "; ".join(self.window(w) for w in wish.windows)
        return ", ".join(x for x in (self.where(wish), self.length(wish.minutes), often, times) if x) + f": {windows}"

    def hours(self, room_id: int) -> str:
        """A room's open hours by weekday, consecutive days with the same hours joined: "mandag–fredag 17:00–22:00"."""
        by_day = [tuple(spans(self.round.open.get(room_id, {}).get(d, 0))) for d in range(7)]
        parts, day = [], 0
        while day < 7:
            end = day
            while end + 1 < 7 and by_day[end + 1] == by_day[day]:
                end += 1
            if by_day[day]:
                days = self.weekday(day) if end == day else f"{self.weekday(day)}–{self.weekday(end)}"
                parts.append(f"{days} {', '.join(f'{clock(a)}–{clock(b)}' for a, b in by_day[day])}")
            day = end + 1
        return "; ".join(parts) or self.speak(N_("Not open in this term"))

    def opens(self) -> str:
        opening = self.round.season.applications_open
        return self.speak(N_("Applications open {when}."), when=self.speak.when(opening)) if opening else ""

    def closes(self) -> str:
        """The window's end: a close at midnight is read as the day before being the last to apply."""
        closing = self.round.season.applications_close
        if closing is None:
            return self.speak(N_("Applications are taken until staff close the window."))
        local = closing.astimezone(TIMEZONE)
        if (local.hour, local.minute) == (0, 0):
            return self.speak(N_("The last day to apply is {day}."), day=self.speak.day(local - timedelta(days=1)))
        return self.speak(N_("Applications close {when}."), when=self.speak.when(closing))

    def percent(self, share: float) -> str:
        return self.speak.number(share * 100, 0)


def week_grid(round_: Round, room_id: int, entries: list[tuple[Slot, tuple[str, str]]]) -> list[dict]:
    """A room's week as rows of hours and columns of weekdays: in each cell the slots that start in that hour (with their
    words) and the slots that go on through it, or nothing where the room is closed."""
    rows = []
    for hour in round_.open_hours(room_id):
        low, high = hour * 60, hour * 60 + 60
        cells = []
        for weekday in range(7):
            here = [(s, label) for s, label in entries if s.weekday == weekday and s.start < high and s.start + s.minutes > low]
            cells.append(
                {
                    "open": round_.is_open(room_id, weekday, hour),
                    "starts": [(s, label) for s, label in here if s.start >= low],
                    "goes_on": [(s, label) for s, label in here if s.start < low],
                }
            )
        rows.append({"hour": hour, "cells": cells})
    return rows
