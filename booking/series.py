"""Use cases for weekly series: book every occurrence that can be booked, report each date that cannot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import rules, store, time_rules
from booking.engine import (
    NewBooking,
    booker_for,
    check_free,
    check_may_act_on,
    check_policy_and_quota,
    new_row,
)
from booking.lifecycle import mark_cancelled
from booking.rules import BookingStatus
from booking.store import Booking, BookingSeries
from booking.waitlists import offers
from infra import outbox
from infra.database import Db
from infra.errors import DomainError, ErrorCode, NotFound
from people.actor import Actor
from resources import store as catalogue
from resources.rules import Policy
from resources.store import Resource

MAX_OCCURRENCES = 60


class SeriesTooLong(DomainError):
    code = ErrorCode.SERIES_TOO_LONG
    status = 422
    title = f"A series has at most {MAX_OCCURRENCES} occurrences"


class NothingBookable(DomainError):
    code = ErrorCode.SERIES_UNBOOKABLE
    status = 409
    title = "No date of this series could be booked"


@dataclass(frozen=True)
class Refusal:
    date: date
    start: datetime
    end: datetime
    code: str
    detail: str


@dataclass(frozen=True)
class SeriesOutcome:
    series: BookingSeries
    booked: list[Booking]
    refused: list[Refusal]


async def create_series(db: Db, actor: Actor, first: NewBooking, *, every_weeks: int, until: date, now: datetime) -> SeriesOutcome:
    """Book the first occurrence's wall-clock time every N weeks until a date, as far as each date allows."""
    # Counted before any date is made: the length of the work is bounded before it is done.
    count = time_rules.weekly_count(first.start, every_weeks=every_weeks, until=until)
    if count > MAX_OCCURRENCES:
        raise SeriesTooLong(occurrences=count)
    occurrences = time_rules.weekly_occurrences(first.start, first.end, every_weeks=every_weeks, until=until)
    booker = booker_for(actor, first.association_id)
    async with db.write() as s:
        resource = await store.locked_resource(s, first.resource_id)
        policy = await catalogue.policy_of(s, resource)
        series = BookingSeries(
            resource_id=resource.id,
            person_id=actor.person_id,
            association_id=first.association_id,
            title=first.title,
            every_weeks=every_weeks,
            until=until,
            created_at=now,
        )
        s.add(series)
        await s.flush()
        booked, refused = [], []
        for day, start, end in occurrences:
            wanted = replace(first, start=start, end=end)
            try:
                await check_policy_and_quota(s, resource, policy, booker, wanted, now=now)
                row = new_row(resource, policy, booker, wanted, await check_free(s, resource, policy, wanted), now=now, series_id=series.id)
            except DomainError as refusal:
                refused.append(Refusal(day, start, end, refusal.code, refusal.detail))
                continue
            s.add(row)
            await s.flush()
            booked.append(row)
        if not booked:
            raise NothingBookable(refused=[{"date": r.date.isoformat(), "code": r.code, "detail": r.detail} for r in refused])
        outbox.record(
            s,
            "series_booked",
            person_id=actor.person_id,
            booking_id=booked[0].id,
            at=now,
            series_id=series.id,
            booked=len(booked),
            refused=len(refused),
        )
        return SeriesOutcome(series, booked, refused)


async def cancel_series(db: Db, actor: Actor, series_id: int, reason: str, *, after: datetime | None, now: datetime) -> list[Booking]:
    """Cancel the rest of a series: every occurrence from `after` (or now) that may still be cancelled.

    Occurrences already past their cancellation deadline stay booked (the booker cannot cancel them
    one by one either); staff cancel them all.
    """
    cutoff = max(after or now, now)
    async with db.write() as s:
        series = await s.get(BookingSeries, series_id)
        if series is None:
            raise NotFound(f"No series {series_id}", series_id=series_id)
        policy = await catalogue.policy_of(s, await store.locked_resource(s, series.resource_id))
        query = select(Booking).where(Booking.series_id == series_id, Booking.start >= cutoff).order_by(Booking.start)
        cancelled = []
        for booking in (await s.execute(query)).scalars():
            check_may_act_on(actor, booking)
            if BookingStatus(booking.status) not in rules.CANCELLABLE:
                continue
            try:
                rules.check_cancellable(BookingStatus(booking.status), booking.start, policy, actor.is_staff, now=now)
            except rules.CancellationTooLate:
                continue
            mark_cancelled(s, booking, actor, reason, now=now)
            cancelled.append(booking)
    if cancelled:  # after the commit, in its own transaction: the freed evenings go to whoever waits
        await offers.offer_freed_capacity(db, series.resource_id, now=now)
    return cancelled


async def hold_weekly_in(
    s: AsyncSession,
    resource: Resource,
    policy: Policy,
    booker: rules.Booker,
    occurrences: list[tuple[date, datetime, datetime]],
    series: BookingSeries,
    *,
    skip: dict[date, str],
    now: datetime,
) -> tuple[list[Booking], list[Refusal]]:
    """A season's weekly time over a term, inside a write transaction: each date open and free is held (offered until
    the association confirms); holiday dates and dates closed or taken are listed as not booked, with why. Horizon,
    lead time and quotas do not apply: staff allocated the time by the season's rules."""
    s.add(series)
    await s.flush()
    held, refused = [], []
    for day, start, end in occurrences:
        wanted = NewBooking(resource.id, start, end, series.title, booker.association_id)
        try:
            if day in skip:
                raise SkippedDate(skip[day], date=day.isoformat())
            rules.check_inside_windows(policy, start, end)
            row = new_row(resource, policy, booker, wanted, await check_free(s, resource, policy, wanted), now=now, series_id=series.id)
        except DomainError as refusal:
            refused.append(Refusal(day, start, end, refusal.code, refusal.detail))
            continue
        row.hold_for_offer()
        s.add(row)
        held.append(row)
    await s.flush()
    return held, refused


class SkippedDate(DomainError):
    code = ErrorCode.HOLIDAY
    status = 409
    title = "A holiday of the term: not booked"
