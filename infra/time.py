"""Time as Allmenning reasons about it: UTC instants, half-open intervals, Oslo's local days and public holidays."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OSLO = ZoneInfo("Europe/Oslo")


MIDNIGHT = time(0)


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


def as_utc(moment: datetime) -> datetime:
    # Arithmetic between datetimes sharing a ZoneInfo is wall-clock arithmetic; UTC is real time.
    return moment.astimezone(UTC)
