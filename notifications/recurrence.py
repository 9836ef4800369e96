"""A weekly series as one recurring event: the pattern it keeps, and the DTSTART, UNTIL and EXDATEs that yield its dates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Span = tuple[datetime, datetime]  # an occurrence's start and end, zone-aware


@dataclass(frozen=True)
class Series:
    """A series as the booking tables hold it: how often it recurs, and every occurrence it ever had, whatever became
    of it (cancelled, declined…), with those no change ever touched apart."""

    id: int
    every_weeks: int
    spans: tuple[Span, ...]
    untouched: tuple[Span, ...] = ()  # occurrences at SEQUENCE 0: never moved, so still where the series put them


@dataclass(frozen=True)
class Pattern:
    """The wall-clock time a series keeps every N weeks: a local start on one of its dates, and a wall-clock length."""

    anchor: datetime  # aware, in the series' zone
    length: timedelta
    every_weeks: int

    def at(self, day: date) -> Span:
        """The pattern's start and end on a day: the same wall-clock time on either side of a clock change."""
        start = datetime.combine(day, self.anchor.time())
        return start.replace(tzinfo=self.anchor.tzinfo), (start + self.length).replace(tzinfo=self.anchor.tzinfo)

    def slot_of(self, moment: datetime) -> datetime | None:
        """The pattern's start on the local day of a moment (the RECURRENCE-ID an occurrence that day is known by),
        or None on a day the pattern skips."""
        day = moment.astimezone(self.anchor.tzinfo).date()
        return None if (day - self.anchor.date()).days % (7 * self.every_weeks) else self.at(day)[0]

    def fits(self, span: Span) -> bool:
        """Whether an occurrence is at its day's pattern time and length (not moved, not shortened)."""
        slot = self.slot_of(span[0])
        return slot is not None and self.at(slot.date()) == span


def _wall(start: datetime, end: datetime) -> timedelta:
    return end.replace(tzinfo=None) - start.replace(tzinfo=None)


def pattern_of(spans: Sequence[Span], every_weeks: int, zone: ZoneInfo) -> Pattern:
    """The wall-clock time, length and weekday most of these occurrences share (the earliest of them on a tie): a moved
    or shortened evening is the exception, so the pattern stays where the series was made as its evenings change."""
    local = sorted((start.astimezone(zone), end.astimezone(zone)) for start, end in spans)

    def key(span: Span) -> tuple[time, timedelta, int]:
        return span[0].time(), _wall(*span), span[0].date().toordinal() % (7 * every_weeks)

    counts = Counter(map(key, local))
    start, end = next(s for s in local if counts[key(s)] == max(counts.values()))
    return Pattern(start, _wall(start, end), every_weeks)


@dataclass(frozen=True)
class Placed:
    """Where a series' occurrences go in its recurring event: the one on each date of the pattern, and the rest."""

    slots: dict[datetime, int]  # a slot's local start → the index of the occurrence on it
    apart: tuple[int, ...]  # occurrences on a day the pattern skips, or a second one on a date: events of their own


def place(pattern: Pattern, spans: Sequence[Span]) -> Placed:
    """Each occurrence on its day's date of the pattern, those at the pattern's time first, so that of two on one date
    (one moved there from another day) the one the date belongs to keeps it."""
    slots: dict[datetime, int] = {}
    apart = []
    for i in sorted(range(len(spans)), key=lambda i: not pattern.fits(spans[i])):
        slot = pattern.slot_of(spans[i][0])
        if slot is None or slot in slots:
            apart.append(i)
        else:
            slots[slot] = i
    return Placed(dict(sorted(slots.items())), tuple(sorted(apart)))


@dataclass(frozen=True)
class Weekly:
    """RRULE:FREQ=WEEKLY;INTERVAL=every_weeks;UNTIL=until from start, less the exdates (local starts)."""

    start: datetime
    end: datetime
    every_weeks: int
    until: datetime  # the last instance's start, in UTC as RRULE's UNTIL must be with a TZID'd DTSTART
    exdates: tuple[datetime, ...]


def weekly(pattern: Pattern, slots: Sequence[datetime]) -> Weekly:
    """The recurring event that yields exactly these slots: from the first to the last, every date of the pattern
    between them that is not one of them left out (refused when booked, cancelled since, or skipped as a holiday)."""
    zone = pattern.anchor.tzinfo
    first, last = min(slots).astimezone(zone), max(slots).astimezone(zone)
    step = 7 * pattern.every_weeks
    dates = [pattern.at(first.date() + timedelta(days=d))[0] for d in range(0, (last.date() - first.date()).days + 1, step)]
    booked = set(slots)
    start, end = pattern.at(first.date())
    return Weekly(start, end, pattern.every_weeks, last.astimezone(UTC), tuple(d for d in dates if d not in booked))
