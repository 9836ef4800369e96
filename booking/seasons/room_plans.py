"""Pure shape of a room-season application as an association writes it, bounded before any work is done on it."""

from __future__ import annotations

from dataclasses import dataclass

from booking.seasons.room_rules import DAY_MINUTES, MAX_WINDOWS, MAX_WISHES, STEP_MINUTES, AgeBand, Window
from infra.errors import InvalidInput


@dataclass(frozen=True)
class WishPlan:
    """A wish as an association writes it: a room, or any room at a location with the seats and features asked."""

    activity: int  # index into the application's activities
    minutes: int
    windows: tuple[Window, ...]
    room_id: int | None = None
    location_id: int | None = None
    min_seats: int = 0
    features: tuple[str, ...] = ()
    times: int = 1
    every_weeks: int = 1


@dataclass(frozen=True)
class ActivityPlan:
    name: str
    age_band: AgeBand
    participants: int
    under_20: int
    responsible_name: str
    responsible_phone: str


@dataclass(frozen=True)
class ApplicationPlan:
    non_profit: bool
    postal_code: str
    activities: tuple[ActivityPlan, ...]
    wishes: tuple[WishPlan, ...]


def check_plan(plan: ApplicationPlan) -> None:
    """The shape of an application, bounded before any work is done on it."""
    if not plan.activities or not plan.wishes or len(plan.wishes) > MAX_WISHES:
        raise InvalidInput(f"An application has 1 to {MAX_WISHES} wishes and at least one activity", field="wishes")
    for n, activity in enumerate(plan.activities):
        if activity.under_20 > activity.participants:
            raise InvalidInput("More participants under 20 than participants", field=f"activities[{n}].under_20")
    for n, wish in enumerate(plan.wishes):
        _check_wish_plan(n, wish, len(plan.activities))


def _check_wish_plan(n: int, wish: WishPlan, activities: int) -> None:
    where = f"wishes[{n}]"
    if not 0 <= wish.activity < activities:
        raise InvalidInput("The wish names no activity of the application", field=f"{where}.activity")
    if (wish.room_id is None) == (wish.location_id is None):
        raise InvalidInput("A wish names a room, or a location to take any suitable room there", field=where)
    if wish.minutes % STEP_MINUTES or not STEP_MINUTES <= wish.minutes <= 10 * 60:
        raise InvalidInput("A wish lasts 15 minutes to 10 hours, on the quarter hour", field=f"{where}.minutes")
    if not 1 <= len(wish.windows) <= MAX_WINDOWS:
        raise InvalidInput(f"A wish gives 1 to {MAX_WINDOWS} times that suit", field=f"{where}.windows")
    for window in wish.windows:
        if not 0 <= window.weekday <= 6 or not 0 <= window.start < window.end <= DAY_MINUTES or window.end - window.start < wish.minutes:
            raise InvalidInput("Each time that suits is a weekday and hours at least as long as the wish", field=f"{where}.windows")
    if len({w.weekday for w in wish.windows}) < wish.times:
        raise InvalidInput("A wish for several times a week needs that many weekdays", field=f"{where}.times")
