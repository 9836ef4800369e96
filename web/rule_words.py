"""A resource's rules as a person reads them where they book: its weekly hours, how long and how far ahead, the
cancellation deadline, and who may book it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names
from babel.units import format_unit

from infra.time import MIDNIGHT, OSLO
from people.actor import Actor, Duty
from resources.rules import BookerKind, Policy, WeeklyWindow


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


DAY, HOUR = 24 * 60, 60


def in_minutes(span: timedelta) -> float:
    return span / timedelta(minutes=1)


def duration_words(minutes: float, speak: Any) -> str:
    """A length in whole days, hours or minutes, whichever says it exactly, with the language's own plurals."""
    minutes = round(minutes)
    unit, count = ("duration-minute", minutes)
    if minutes >= 2 * DAY and minutes % DAY == 0:  # "24 hours", as a deadline is said, but "7 days"
        unit, count = "duration-day", minutes // DAY
    elif minutes and minutes % HOUR == 0:
        unit, count = "duration-hour", minutes // HOUR
    return format_unit(count, unit, length="long", locale=speak.locale)


def day_runs(weekdays: Iterable[int]) -> list[tuple[int, int]]:
    """Weekdays (0 = Monday) as runs of consecutive days: {0, 1, 2, 3, 4, 6} is Monday–Friday and Sunday."""
    runs: list[tuple[int, int]] = []
    for day in sorted(set(weekdays)):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def days_words(weekdays: Iterable[int], speak: Any) -> str:
    names = get_day_names("wide", locale=speak.locale)  # Babel counts Monday as 0, as Python does
    return ", ".join(names[a] if a == b else f"{names[a]}–{names[b]}" for a, b in day_runs(weekdays))


def window_words(window: WeeklyWindow, speak: Any) -> str:
    """One weekly window: its days and hours, and the dates it holds between when it does not hold always."""
    end = "24:00" if window.end == MIDNIGHT else speak.clock(window.end)
    said = f"{days_words(window.weekdays, speak)} {speak.clock(window.start)}–{end}"
    if window.valid_from:
        said += " " + speak(N_("(from {day})"), day=speak.day(window.valid_from))
    if window.valid_until:
        said += " " + speak(N_("(until {day})"), day=speak.day(window.valid_until))
    return said


@dataclass(frozen=True)
class Fact:
    label: str
    said: str


def hours_facts(policy: Policy, speak: Any, *, today: date, is_loan: bool) -> list[Fact]:
    """The weekly hours still to come, and whether public holidays are closed."""
    windows = [w for w in policy.windows if w.valid_until is None or w.valid_until >= today]
    label = N_("Opening hours") if is_loan else N_("Can be booked")
    hours = "; ".join(window_words(w, speak) for w in windows) or speak(N_("No hours set: ask the staff."))
    if not policy.open_on_holidays:
        hours += ". " + speak(N_("Closed on public holidays."))
    return [Fact(speak(label), hours)]


def length_facts(policy: Policy, speak: Any, *, is_loan: bool) -> list[Fact]:
    """How long a booking may be (a loan: how long it may last), and how far ahead it is booked."""
    if is_loan:
        length = speak(N_("At most {longest}"), longest=duration_words(in_minutes(policy.max_loan), speak))
        facts = [Fact(speak(N_("Loan")), length)]
    else:
        shortest, longest = (duration_words(in_minutes(x), speak) for x in (policy.min_duration, policy.max_duration))
        facts = [Fact(speak(N_("Length")), speak(N_("At least {shortest}, at most {longest}"), shortest=shortest, longest=longest))]
    furthest = duration_words(in_minutes(policy.horizon), speak)
    if policy.lead_time > timedelta(0):
        soonest = duration_words(in_minutes(policy.lead_time), speak)
        ahead = speak(N_("At least {soonest} before, at most {furthest} ahead"), soonest=soonest, furthest=furthest)
    else:
        ahead = speak(N_("At most {furthest} ahead"), furthest=furthest)
    return [*facts, Fact(speak(N_("When to borrow") if is_loan else N_("When to book")), ahead)]


def cancellation_fact(policy: Policy, speak: Any) -> Fact:
    if policy.cancellation_notice <= timedelta(0):
        return Fact(speak(N_("Cancelling")), speak(N_("Until it starts")))
    notice = duration_words(in_minutes(policy.cancellation_notice), speak)
    return Fact(speak(N_("Cancelling")), speak(N_("At the latest {notice} before it starts"), notice=notice))


def period_words(start: datetime, end: datetime, speak: Any) -> str:
    """A closure's period: whole days as days (its last day, not the midnight after it), else as times."""
    first, after = start.astimezone(OSLO), end.astimezone(OSLO)
    if first.time() != MIDNIGHT or after.time() != MIDNIGHT:
        return speak.span(start, end)
    last = after.date() - timedelta(days=1)
    return speak.day(first.date()) if last == first.date() else f"{speak.day(first.date())} – {speak.day(last)}"


def closure_facts(closures: Iterable[Any], speak: Any, *, now: datetime, shown: int = 5) -> list[Fact]:
    """The next closures with their own reasons ("Juleferie"), so a date is not chosen to be refused."""
    coming = sorted((c for c in closures if c.end > now), key=lambda c: c.start)[:shown]
    said = [(period_words(c.start, c.end, speak), c.reason) for c in coming]
    return [Fact(speak(N_("Closure")), f"{period}: {reason}" if reason else period) for period, reason in said]


def rules_of(policy: Policy, closures: Iterable[Any], speak: Any, *, now: datetime, today: date, is_loan: bool) -> list[Fact]:
    """What the booking form says before anyone fills it in (the closures as the catalogue keeps them, with reasons)."""
    return [
        *hours_facts(policy, speak, today=today, is_loan=is_loan),
        *length_facts(policy, speak, is_loan=is_loan),
        cancellation_fact(policy, speak),
        *closure_facts(closures, speak, now=now),
    ]


def booker_kinds(viewer: Actor, location_id: int | None = None) -> frozenset[BookerKind]:
    """The kinds the viewer books as: staff who decide at the place as staff (as `booking.engine.booker_for` has it);
    anyone else as a resident, and a member also for their association."""
    if viewer.may(Duty.DECIDE, location_id):
        return frozenset({BookerKind.STAFF})
    return frozenset({BookerKind.RESIDENT, BookerKind.ASSOCIATION} if viewer.roles else {BookerKind.RESIDENT})


def may_book(policy: Policy, viewer: Actor, location_id: int | None = None) -> bool:
    return bool(booker_kinds(viewer, location_id) & policy.bookable_by)


def who_may_book(policy: Policy) -> str:
    """Who books it, said where the Book button would be for those who may not."""
    if BookerKind.RESIDENT in policy.bookable_by:
        return N_("Anyone who is signed in can book this.")
    if BookerKind.ASSOCIATION in policy.bookable_by:
        return N_("Only associations book this room: a member books it for their association. Ask your association to add you as a member.")
    return N_("Only the staff at Knutepunkt Strømsø book this. Ask them.")


def for_myself(policy: Policy, viewer: Actor, location_id: int | None = None) -> bool:
    """Whether "myself" is a choice of booker: staff who decide there book as staff, a resident only where residents may."""
    return viewer.may(Duty.DECIDE, location_id) or BookerKind.RESIDENT in policy.bookable_by
