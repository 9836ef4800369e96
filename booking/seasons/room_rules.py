"""Pure rules of room seasons: an association's weekly wishes, the priority tiers, the term's dates and who is told what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from typing import ClassVar

from infra.errors import Conflict, DomainError, ErrorCode, Forbidden, NotFound
from infra.i18n import N_
from resources.rules import WeeklyWindow

STEP_MINUTES = 15  # wishes are placed on the quarter hour, like every room booking
DAY_MINUTES = 24 * 60
MAX_WISHES = 20  # per application: bounded before any allocation work is done
MAX_WINDOWS = 7  # per wish
DEFAULT_RENEWAL_SHARE = 0.5  # "actually used it": more than half its dates not cancelled


class AgeBand(StrEnum):
    CHILDREN = "children"  # up to 12
    YOUTH = "youth"  # 13–19
    ADULTS = "adults"
    SENIORS = "seniors"
    ALL_AGES = "all_ages"


class Tier(IntEnum):
    """Who is served first: last term's holders who used their slot, then children and youth, the district's
    non-profit associations, everyone else."""

    RENEWAL = 0
    YOUNG = 1
    DISTRICT = 2
    OTHERS = 3


class WishStatus(StrEnum):
    APPLIED = "applied"
    GRANTED = "granted"  # in the proposal
    REFUSED = "refused"  # in the proposal
    OFFERED = "offered"  # published, held until the association confirms
    CONFIRMED = "confirmed"
    GIVEN_BACK = "given_back"
    LAPSED = "lapsed"  # not confirmed in time
    WAITING = "waiting"  # refused and published: in line for a slot given back


PROPOSED = frozenset({WishStatus.GRANTED, WishStatus.REFUSED})
HOLDS_A_SLOT = frozenset({WishStatus.OFFERED, WishStatus.CONFIRMED})


class Outcome(StrEnum):
    """What the association is told of a wish; staff read the audit text beside it."""

    RENEWED = "renewed"
    GRANTED_FIRST_CHOICE = "granted_first_choice"
    GRANTED = "granted"  # in one of the times marked "also fine"
    TAKEN_BY_HIGHER_PRIORITY = "taken_by_higher_priority"
    OVER_CAP = "over_cap"
    NO_ROOM_FITS = "no_room_fits"
    OUTSIDE_ROOM_WINDOWS = "outside_room_windows"
    ALREADY_BOOKED = "already_booked"
    MOVED_BY_STAFF = "moved_by_staff"
    REFUSED_BY_STAFF = "refused_by_staff"
    OFFERED_AFTER_GIVE_BACK = "offered_after_give_back"

    GRANTS: ClassVar[frozenset[Outcome]]


Outcome.GRANTS = frozenset(
    {Outcome.RENEWED, Outcome.GRANTED_FIRST_CHOICE, Outcome.GRANTED, Outcome.MOVED_BY_STAFF, Outcome.OFFERED_AFTER_GIVE_BACK}
)

OUTCOME_WORDS: dict[Outcome, str] = {
    Outcome.RENEWED: N_("You keep your time from last term: {slots}."),
    Outcome.GRANTED_FIRST_CHOICE: N_("Granted at a time you marked as first choice: {slots}."),
    Outcome.GRANTED: N_("Granted at a time you said would also do: {slots}."),
    Outcome.TAKEN_BY_HIGHER_PRIORITY: N_("Not granted: the times that suit you were given to wishes with higher priority."),
    Outcome.OVER_CAP: N_("Not granted: it would take your association over {cap} hours a week."),
    Outcome.NO_ROOM_FITS: N_("Not granted: no room in this season has the seats and equipment you asked for."),
    Outcome.OUTSIDE_ROOM_WINDOWS: N_("Not granted: the times you gave are outside the hours the rooms can be used."),
    Outcome.ALREADY_BOOKED: N_("Not granted: the times that suit you are already booked on some of the term's dates."),
    Outcome.MOVED_BY_STAFF: N_("After a review we have given you {slots}."),
    Outcome.REFUSED_BY_STAFF: N_("After a review we could not grant this wish."),
    Outcome.OFFERED_AFTER_GIVE_BACK: N_("A time was given back and is offered to you: {slots}."),
}

WEEKDAY_WORDS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))


@dataclass(frozen=True)
class Window:
    """A weekday and the hours that suit, in minutes after midnight; first choice, or also fine."""

    weekday: int
    start: int
    end: int
    first_choice: bool = True


@dataclass(frozen=True)
class Slot:
    """A weekly time in one room: every week, or every other week in the term's even (0) or odd (1) weeks."""

    room: int
    weekday: int
    start: int
    minutes: int
    every_weeks: int = 1
    parity: int = 0

    @property
    def parities(self) -> tuple[int, ...]:
        return (0, 1) if self.every_weeks == 1 else (self.parity,)

    @property
    def weekly_minutes(self) -> float:
        return self.minutes / self.every_weeks

    def clock(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}–{(self.start + self.minutes) // 60:02d}:{(self.start + self.minutes) % 60:02d}"
        )


@dataclass(frozen=True)
class Wish:
    """One ranked wish of an association's application: the rooms that fit it are resolved beforehand."""

    id: int
    association: int
    activity: int
    tier: int
    rank: int
    minutes: int
    windows: tuple[Window, ...]
    rooms: tuple[int, ...]
    times: int = 1
    every_weeks: int = 1
    renews: Slot | None = None


class WishOutsideRoomWindows(DomainError):
    code = ErrorCode.WISH_OUTSIDE_ROOM_WINDOWS
    status = 422
    title = "No time the wish gives fits inside the room's hours"


class WishesOverlap(DomainError):
    code = ErrorCode.WISHES_OVERLAP
    status = 422
    title = "Two wishes of the same activity ask for the same fixed time"


class ApplicationWindowClosed(Conflict):
    code = ErrorCode.APPLICATION_WINDOW_CLOSED
    title = "The season does not take applications now"


class SeasonSlotTaken(Conflict):
    code = ErrorCode.SEASON_SLOT_TAKEN
    title = "That time is taken in the room on some of the term's dates"


class AlreadyPublished(Conflict):
    code = ErrorCode.ALREADY_PUBLISHED
    title = "The allocation of this season is already published"


class AdminsApply(Forbidden):
    code = ErrorCode.NOT_AN_ADMIN
    title = "Only the association's admins apply for its rooms"


class NotARoomSeason(NotFound):
    """A garden season asked for as a room season: there is no room season by that id."""

    code = ErrorCode.NOT_A_ROOM_SEASON
    title = "No room season has this id"


class NotUsedEnough(Conflict):
    code = ErrorCode.NOT_USED_ENOUGH
    title = "Last term's slot was not used on enough of its dates to be kept"


def tier_of(*, participants: int, under_20: int, non_profit: bool, postal_code: str, district: list[str] | tuple[str, ...]) -> Tier:
    """Children and youth first (most participants under 20), then non-profits based in the district, then others."""
    if participants > 0 and under_20 * 2 > participants:
        return Tier.YOUNG
    if non_profit and postal_code in district:
        return Tier.DISTRICT
    return Tier.OTHERS


def was_used(dates: int, kept: int, share: float) -> bool:
    """A holder keeps their slot if a booking was kept (not cancelled) on more than `share` of its dates."""
    return dates > 0 and kept / dates > share


def minutes_of(clock: str) -> int:
    """'17:30' → 1050; '24:00' is the end of the day."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def check_wish_fits(wish: Wish, open_by_weekday: dict[int, int]) -> None:
    """A wish for a named room must give at least one time the room can hold (open_by_weekday: minute masks)."""
    if not any(_window_has_room(w, wish.minutes, open_by_weekday.get(w.weekday, 0)) for w in wish.windows):
        raise WishOutsideRoomWindows(wish=wish.rank)


def _window_has_room(window: Window, minutes: int, open_mask: int) -> bool:
    for start in range(window.start, window.end - minutes + 1, STEP_MINUTES):
        if span_mask(start, minutes) & ~open_mask == 0:
            return True
    return False


def check_no_fixed_overlap(wishes: list[Wish]) -> None:
    """An activity is one group: two of its wishes pinned to overlapping fixed times cannot both be met."""
    fixed = [(w, win) for w in wishes for win in w.windows if win.end - win.start == w.minutes]
    for i, (a, wa) in enumerate(fixed):
        for b, wb in fixed[i + 1 :]:
            if a.id != b.id and a.activity == b.activity and wa.weekday == wb.weekday and wa.start < wb.end and wb.start < wa.end:
                raise WishesOverlap(wishes=[a.rank, b.rank])


def span_mask(start: int, minutes: int) -> int:
    """The minutes of a day a time covers, as bits."""
    return ((1 << minutes) - 1) << start


def term_dates(first: date, last: date, holidays: list[tuple[date, date]]) -> list[date]:
    """Every date of the term that is not in a holiday week."""
    days, day = [], first
    while day <= last:
        if not any(a <= day <= b for a, b in holidays):
            days.append(day)
        day += timedelta(days=1)
    return days


def week_parity(day: date, first: date) -> int:
    """Even (0) or odd (1) week of the term, counted from the Monday of its first week."""
    return ((day - (first - timedelta(days=first.weekday()))).days // 7) % 2


def slot_dates(slot: Slot, first: date, last: date) -> list[date]:
    """Every date of the term's pattern for a slot, holidays included: those are listed as not booked."""
    day = first + timedelta(days=(slot.weekday - first.weekday()) % 7)
    days = []
    while day <= last:
        if week_parity(day, first) in slot.parities:
            days.append(day)
        day += timedelta(weeks=1)
    return days


def window_minutes(window: WeeklyWindow) -> tuple[int, int]:
    """A room's weekly window in minutes after midnight (an end at 00:00 is the end of the day)."""
    end = window.end.hour * 60 + window.end.minute
    return window.start.hour * 60 + window.start.minute, end or DAY_MINUTES


def open_by_weekday(windows: tuple[WeeklyWindow, ...], dates: list[date]) -> dict[int, int]:
    """The minutes a room is open on every term date of each weekday, as bits: a weekly slot needs all of them."""
    found: dict[int, int] = {}
    for day in dates:
        bits = 0
        for window in windows:
            if window.applies_on(day):
                start, end = window_minutes(window)
                bits |= span_mask(start, end - start)
        found[day.weekday()] = found.get(day.weekday(), bits) & bits
    return found


SLOT_WORDS = {1: N_("{weekday} {start}–{end} in {room}"), 2: N_("{weekday} {start}–{end} in {room}, every other week")}


def told(outcome: str) -> str | None:
    """The words an association reads of a wish's outcome (with {slots} and {cap} to fill in); never the audit text."""
    return OUTCOME_WORDS.get(Outcome(outcome)) if outcome in Outcome._value2member_map_ else None


def slot_told(slot: Slot) -> tuple[str, dict[str, object]]:
    """A slot as a person reads it: the message and its values but the weekday's and room's words, filled in by the caller."""
    end = slot.start + slot.minutes
    return SLOT_WORDS[slot.every_weeks], {
        "start": f"{slot.start // 60:02d}:{slot.start % 60:02d}",
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }
