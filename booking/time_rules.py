"""Pure rules of time for bookings: the free time a booking could take, and the dates of a weekly series."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from booking.rules import InvalidRecurrence, check_well_formed
from infra.time import OSLO, Interval, as_utc, clip, local_datetime, subtract
from resources.rules import Policy, open_intervals


def free_intervals(policy: Policy, span: Interval, taken_blocks: list[Interval], *, now: datetime) -> list[Interval]:
    """When a new booking itself could lie: open time, away from others' blocks, within lead and horizon."""
    # The new booking's own buffers must clear each taken block too, so widen the blocks by them.
    keep_clear = [Interval(b.start - policy.buffer_after, b.end + policy.buffer_before) for b in taken_blocks]
    earliest, latest = as_utc(now) + policy.lead_time, as_utc(now) + policy.horizon
    if latest <= earliest:
        return []
    bookable = Interval(earliest, latest).intersection(span)
    if bookable is None:
        return []
    return clip(subtract(open_intervals(policy, span), keep_clear), bookable)


def weekly_count(start: datetime, *, every_weeks: int, until: date) -> int:
    """How many dates a series every N weeks from `start` to the local date `until` has, counted without listing
    them: a series asked to run until 9999-12-31 costs no more to refuse than one asked for a month."""
    if every_weeks < 1:
        raise InvalidRecurrence(every_weeks=every_weeks)
    first_day = start.astimezone(OSLO).date()
    return 0 if until < first_day else (until - first_day).days // (7 * every_weeks) + 1


def weekly_occurrences(start: datetime, end: datetime, *, every_weeks: int, until: date) -> list[tuple[date, datetime, datetime]]:
    """A series at the same Oslo wall-clock time every N weeks up to and including the local date `until`."""
    if every_weeks < 1:
        raise InvalidRecurrence(every_weeks=every_weeks)
    check_well_formed(start, end)
    local_start, local_end = start.astimezone(OSLO), end.astimezone(OSLO)
    first_day = local_start.date()
    days_spanned = local_end.date() - first_day  # keeps an evening running past midnight intact
    occurrences = []
    day = first_day
    while day <= until:
        if day == first_day:
            occurrences.append((day, as_utc(start), as_utc(end)))
        else:
            occurrence_start = local_datetime(day, local_start.time())
            occurrence_end = local_datetime(day + days_spanned, local_end.time())
            # Only a series inside the skipped spring hour can invert; it comes back empty and fails per date.
            occurrences.append((day, occurrence_start, max(occurrence_end, occurrence_start)))
        day += timedelta(weeks=every_weeks)
    return occurrences
