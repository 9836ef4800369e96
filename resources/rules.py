"""Pure resource rules: kinds, policies, intervals and when a resource is open, reasoned about in Europe/Oslo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from infra.errors import DomainError, ErrorCode, InvalidInput
from infra.time import (
    MIDNIGHT,
    OSLO,
    Interval,
    _require_aware,
    clip,
    local_datetime,
    local_day,
    local_days,
    public_holiday_name,
    subtract,
)


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
    code = ErrorCode.INVALID_POLICY
    status = 422
    title = "The resource's rules contradict each other"


class OutsideBookingWindow(DomainError):
    code = ErrorCode.OUTSIDE_BOOKING_WINDOW
    status = 422
    title = "The time is outside the resource's booking windows"


class ResourceClosed(DomainError):
    code = ErrorCode.RESOURCE_CLOSED
    status = 422
    title = "The resource is closed at that time"


# ---------------------------------------------------------------- intervals


# ---------------------------------------------------------------- local time


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
    bookable_by: frozenset[BookerKind] = field(default_factory=lambda: frozenset({BookerKind.ASSOCIATION, BookerKind.STAFF}))
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
