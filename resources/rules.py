"""Pure resource rules: kinds, policies, intervals and when a resource is open, reasoned about in Europe/Oslo."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from config.errors import DomainError, InvalidInput

OSLO = ZoneInfo("Europe/Oslo")
MIDNIGHT = time(0)


class ResourceKind(StrEnum):
    ROOM = "room"
    EQUIPMENT = "equipment"
    GARDEN_BED = "garden_bed"


# One booking at a time; equipment is pooled and counted in units instead.
EXCLUSIVE_KINDS = frozenset({ResourceKind.ROOM, ResourceKind.GARDEN_BED})


class BookerKind(StrEnum):
    RESIDENT = "resident"
    ASSOCIATION = "association"
    STAFF = "staff"


class InvalidPolicy(InvalidInput):
    code = "invalid_policy"
    status = 422
    title = "The resource's rules contradict each other"


class OutsideBookingWindow(DomainError):
    code = "outside_booking_window"
    status = 422
    title = "The time is outside the resource's booking windows"


class ResourceClosed(DomainError):
    code = "resource_closed"
    status = 422
    title = "The resource is closed at that time"


# ---------------------------------------------------------------- intervals


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: every instant must carry its time zone")


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of real time [start, end), kept in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start)
        _require_aware(self.end)
        # Stored in UTC: arithmetic on two datetimes sharing a ZoneInfo is wall-clock arithmetic,
        # which is off by an hour across a daylight-saving change.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} .. {self.end}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def is_empty(self) -> bool:
        return self.end == self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def intersection(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The same instants as sorted, disjoint intervals; touching intervals become one."""
    merged: list[Interval] = []
    for interval in sorted(i for i in intervals if not i.is_empty):
        if merged and interval.start <= merged[-1].end:
            last = merged.pop()
            interval = Interval(last.start, max(last.end, interval.end))
        merged.append(interval)
    return merged


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """The instants of `intervals` that no hole covers, as sorted disjoint intervals."""
    holes = merge(holes)
    result: list[Interval] = []
    first_hole = 0
    for interval in merge(intervals):
        cursor = interval.start
        # Both lists are sorted, so holes ending before this interval never matter again.
        while first_hole < len(holes) and holes[first_hole].end <= cursor:
            first_hole += 1
        for hole in holes[first_hole:]:
            if hole.start >= interval.end:
                break
            if hole.start > cursor:
                result.append(Interval(cursor, hole.start))
            cursor = max(cursor, hole.end)
        if cursor < interval.end:
            result.append(Interval(cursor, interval.end))
    return result


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """Each interval cut to `window`; those outside it are dropped."""
    cut = (interval.intersection(window) for interval in intervals)
    return sorted(c for c in cut if c is not None)


# ---------------------------------------------------------------- local time


def local_datetime(day: date, wall: time) -> datetime:
    """The UTC instant of a wall-clock time on a day in Oslo.

    As RFC 5545 reads DTSTART: a wall time skipped in spring (02:30) lands an hour later, and an
    ambiguous one in autumn takes its first (summer-time) occurrence: fold=0, normalised via UTC.
    """
    return datetime.combine(day, wall.replace(fold=0), tzinfo=OSLO).astimezone(UTC)


def local_day(day: date) -> Interval:
    """From local midnight to the next local midnight: 23, 24 or 25 real hours."""
    return Interval(local_datetime(day, MIDNIGHT), local_datetime(day + timedelta(days=1), MIDNIGHT))


def local_week_of(moment: datetime) -> Interval:
    """The Oslo week (Monday 00:00 to Monday 00:00) a moment falls in: what weekly quotas count."""
    monday = moment.astimezone(OSLO).date() - timedelta(days=moment.astimezone(OSLO).weekday())
    return Interval(local_datetime(monday, MIDNIGHT), local_datetime(monday + timedelta(days=7), MIDNIGHT))


def local_days(span: Interval) -> Iterator[date]:
    """Every Oslo calendar day that the span touches."""
    day, last = span.start.astimezone(OSLO).date(), span.end.astimezone(OSLO).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    # include_sundays=False: the library can count every Sunday as a helligdag; we want the
    # official named days only (Easter Sunday and Whit Sunday are among them anyway).
    calendar = holidays.country_holidays("NO", years=year, include_sundays=False, language="no")
    return dict(calendar.items())


def is_public_holiday(day: date) -> bool:
    return day in _public_holidays(day.year)


def public_holiday_name(day: date) -> str | None:
    """The Norwegian name of the holiday, e.g. "Grunnlovsdag", or None on an ordinary day."""
    return _public_holidays(day.year).get(day)


# ---------------------------------------------------------------- policy


@dataclass(frozen=True)
class WeeklyWindow:
    """Weekly wall-clock hours in Oslo when a resource can be booked; end 00:00 means end of day."""

    weekdays: frozenset[int]
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def on(self, day: date) -> Interval:
        end_day = day + timedelta(days=1) if self.end == MIDNIGHT else day
        start, end = local_datetime(day, self.start), local_datetime(end_day, self.end)
        # A window inside the skipped spring hour (02:30–03:00) would invert; it is simply empty that night.
        return Interval(start, max(start, end))


@dataclass(frozen=True)
class Closure:
    start: datetime
    end: datetime
    reason: str

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True)
class Policy:
    windows: tuple[WeeklyWindow, ...] = ()
    closures: tuple[Closure, ...] = ()
    min_duration: timedelta = timedelta(minutes=30)
    max_duration: timedelta = timedelta(hours=5)
    granularity: timedelta = timedelta(minutes=15)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=180)
    lead_time: timedelta = timedelta(hours=2)
    bookable_by: frozenset[BookerKind] = field(
        default_factory=lambda: frozenset({BookerKind.ASSOCIATION, BookerKind.STAFF})
    )
    needs_approval: bool = False
    cancellation_notice: timedelta = timedelta(hours=24)
    open_on_holidays: bool = False
    association_hours_per_week: float | None = None
    max_active_bookings_per_person: int | None = None
    max_loan: timedelta = timedelta(days=7)
    max_active_loans: int | None = None


def closures_within(policy: Policy, span: Interval) -> list[Closure]:
    """The policy's closures touching the span, plus each public holiday it keeps closed."""
    found = [c for c in policy.closures if c.interval.overlaps(span)]
    if not policy.open_on_holidays:
        for day in local_days(span):
            name = public_holiday_name(day)
            whole_day = local_day(day)
            if name is not None and whole_day.overlaps(span):
                found.append(Closure(whole_day.start, whole_day.end, name))
    return sorted(found, key=lambda c: (c.start, c.end))


def open_intervals(policy: Policy, span: Interval) -> list[Interval]:
    """When the resource can be booked within the span: its windows, less closures and holidays."""
    # The day before the span is included: a window ending at midnight belongs to it.
    widened = Interval(span.start - timedelta(days=1), span.end)
    windows = [w.on(day) for day in local_days(widened) for w in policy.windows if w.applies_on(day)]
    closed = [c.interval for c in closures_within(policy, span)]
    return clip(subtract(windows, closed), span)


def is_open_throughout(policy: Policy, wanted: Interval) -> bool:
    """One open stretch (windows less closures and holidays) holds the whole interval. Every booking asks
    this, so the stretches of its days are worked out once per policy and days, then remembered."""
    first, last = wanted.start.astimezone(OSLO).date(), wanted.end.astimezone(OSLO).date()
    return any(stretch.contains(wanted) for stretch in _open_between(policy, first, last))


@lru_cache(maxsize=4096)
def _open_between(policy: Policy, first: date, last: date) -> tuple[Interval, ...]:
    return tuple(open_intervals(policy, Interval(local_day(first).start, local_day(last).end)))


def _refuse(field_name: str, detail: str) -> None:
    raise InvalidPolicy(detail, field=field_name)


def _validate_durations(policy: Policy) -> None:
    if policy.granularity <= timedelta(0):
        _refuse("granularity", "The slot granularity must be positive")
    if policy.min_duration <= timedelta(0):
        _refuse("min_duration", "The minimum duration must be positive")
    if policy.min_duration > policy.max_duration:
        _refuse("min_duration", "The minimum duration is longer than the maximum")
    for name in ("min_duration", "max_duration"):
        if getattr(policy, name) % policy.granularity:
            _refuse(name, f"{name} is not a whole number of slots")
    if policy.max_loan <= timedelta(0):
        _refuse("max_loan", "The longest loan must be positive")


def _validate_non_negative(policy: Policy) -> None:
    for name in ("buffer_before", "buffer_after", "lead_time", "horizon", "cancellation_notice"):
        if getattr(policy, name) < timedelta(0):
            _refuse(name, f"{name} cannot be negative")
    for name in ("association_hours_per_week", "max_active_bookings_per_person", "max_active_loans"):
        value = getattr(policy, name)
        if value is not None and value < 0:
            _refuse(name, f"{name} cannot be negative")


def _validate_windows(policy: Policy) -> None:
    for window in policy.windows:
        if not window.weekdays or not window.weekdays <= frozenset(range(7)):
            _refuse("windows", "Weekdays are numbered 0 (Monday) to 6 (Sunday)")
        if window.end != MIDNIGHT and window.start >= window.end:
            _refuse("windows", f"The window {window.start}–{window.end} ends before it starts")
        if window.valid_from and window.valid_until and window.valid_from > window.valid_until:
            _refuse("windows", "A window's validity ends before it begins")
    for closure in policy.closures:
        _require_aware(closure.start)
        _require_aware(closure.end)
        if closure.end <= closure.start:
            _refuse("closures", f"The closure '{closure.reason}' ends before it starts")


def validate_policy(policy: Policy) -> None:
    """A policy is usable when its numbers agree with each other and someone may book."""
    _validate_durations(policy)
    _validate_non_negative(policy)
    _validate_windows(policy)
    if not policy.bookable_by:
        _refuse("bookable_by", "Nobody may book this resource")
