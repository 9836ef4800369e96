"""Pure utilisation rules: which bookings count, and their hours against the hours bookable, week by week."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from booking.rules import BookingStatus
from infra.time import MIDNIGHT, Interval, local_datetime
from resources.rules import Policy, open_intervals

# Held and used capacity: a request holds its slot, a returned loan was used.
COUNTED = frozenset(
    {BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.OVERDUE, BookingStatus.RETURNED}
)


class Booked(Protocol):
    """What these rules read of a booking: its interval, units and status."""

    start: datetime
    end: datetime
    quantity: int
    status: str


@dataclass(frozen=True)
class Week:
    monday: date
    available: float  # hours open for booking (unit-hours for pooled equipment)
    booked: float

    @property
    def share(self) -> float:
        return self.booked / self.available if self.available else 0.0


@dataclass(frozen=True)
class ItemWeek:
    monday: date
    loans: int  # loans that run at some time in the week
    unit_hours: float  # units lent times hours, inside the week
    available: float  # the item's stock times the week's hours

    @property
    def share(self) -> float:
        return self.unit_hours / self.available if self.available else 0.0


@dataclass(frozen=True)
class ItemUse:
    """An item's loans week by week and, over all those weeks, the share of its stock that was out.

    The share is units out over units owned (unit-hours lent over the stock's unit-hours), so a stock of 100 chairs
    and a stock of 2 projectors are read on one scale: half the chairs out reads as half the projectors out.
    """

    stock: int
    weeks: tuple[ItemWeek, ...]

    @property
    def share(self) -> float:
        owned = sum(w.available for w in self.weeks)
        return sum(w.unit_hours for w in self.weeks) / owned if owned else 0.0

    @property
    def units_out(self) -> float:
        """The units out on average over the weeks, night and day."""
        return self.share * self.stock


def hours(interval: Interval) -> float:
    return interval.duration.total_seconds() / 3600


def mondays_from(first: date, count: int) -> list[date]:
    return [first + timedelta(weeks=i) for i in range(count)]


def week_from(monday: date) -> Interval:
    """Monday 00:00 to the next Monday 00:00 in Oslo: 167 or 169 hours in the weeks the clocks change."""
    return Interval(local_datetime(monday, MIDNIGHT), local_datetime(monday + timedelta(days=7), MIDNIGHT))


def taken_by(bookings: Iterable[Booked]) -> list[tuple[Interval, int]]:
    """The interval and units of each booking that holds or used capacity."""
    return [(Interval(b.start, b.end), b.quantity) for b in bookings if BookingStatus(b.status) in COUNTED]


def weekly_use(policy: Policy, units: int, taken: list[tuple[Interval, int]], mondays: list[date], *, pooled: bool) -> list[Week]:
    """Each week's bookable hours and the booked hours that fall inside it, both times the units.

    A room is bookable in its open windows; a loan runs through nights and closed days, so pooled
    equipment is measured against the whole week, or a weekend loan would seem to use more than exists.
    """
    weeks = []
    for monday in mondays:
        span = week_from(monday)
        open_parts = [span] if pooled else open_intervals(policy, span)
        available = sum(hours(i) for i in open_parts) * units
        booked = sum(hours(part) * n for interval, n in taken if (part := interval.intersection(span)) and not part.is_empty)
        weeks.append(Week(monday, available, booked))
    return weeks


def summed(per_room: list[list[Week]], mondays: list[date]) -> list[Week]:
    """The weeks of several rooms added up: available hours with available hours, booked with booked."""
    return [Week(monday, sum(r[i].available for r in per_room), sum(r[i].booked for r in per_room)) for i, monday in enumerate(mondays)]


def item_weeks(stock: int, taken: list[tuple[Interval, int]], mondays: list[date]) -> list[ItemWeek]:
    """Per week, the loans of an item that run in it, their unit-hours inside it, and the stock's unit-hours."""
    found = []
    for monday in mondays:
        span = week_from(monday)
        parts = [(part, n) for interval, n in taken if (part := interval.intersection(span)) and not part.is_empty]
        found.append(ItemWeek(monday, len(parts), sum(hours(p) * n for p, n in parts), stock * hours(span)))
    return found


def item_use(stock: int, taken: list[tuple[Interval, int]], mondays: list[date]) -> ItemUse:
    """An item's weeks, and its share of stock lent over all of them."""
    return ItemUse(stock, tuple(item_weeks(stock, taken, mondays)))
