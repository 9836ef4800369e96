"""Use cases for weekly series: book every occurrence that can be booked, report each date that cannot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import rules, store, time_rules
from booking.engine import (
    NewBooking,
    acts_for_someone_else,
    booker_for,
    check_free,
    check_may_act_on,
    check_policy_and_quota,
    new_row,
)
from booking.lifecycle import mark_cancelled
from booking.rules import BookingStatus, ReasonRequired
from booking.store import Booking, BookingSeries
from booking.waitlists import offers
from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from infra.errors import DomainError, ErrorCode, Forbidden, NotFound
from infra.time import as_utc
from people.actor import Actor, Duty, may_see
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
    data: dict[str, Any] = field(default_factory=dict)  # the refusal's numbers: "at most 4 hours", a closure's reason

    @classmethod
    def of(cls, day: date, start: datetime, end: datetime, refusal: DomainError) -> Refusal:
        plain = {k: v for k, v in refusal.extra.items() if isinstance(v, str | int | float | bool)}
        return cls(day, start, end, str(refusal.code), refusal.detail, plain)

    def as_json(self) -> dict[str, Any]:
        times = {"date": self.date.isoformat(), "start": self.start.isoformat(), "end": self.end.isoformat()}
        return {**times, "code": self.code, "detail": self.detail, "data": self.data}

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> Refusal:
        start, end = datetime.fromisoformat(kept["start"]), datetime.fromisoformat(kept["end"])
        return cls(date.fromisoformat(kept["date"]), start, end, kept["code"], kept.get("detail", ""), kept.get("data") or {})


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
    # A series that starts in the past is refused as a whole: its later dates are not what was asked for.
    rules.check_not_in_the_past(first.start, now=now)
    occurrences = time_rules.weekly_occurrences(first.start, first.end, every_weeks=every_weeks, until=until)
    async with db.write() as s:
        resource = await store.locked_resource(s, first.resource_id)
        booker = booker_for(actor, first.association_id, resource.location_id)
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
                refused.append(Refusal.of(day, start, end, refusal))
                continue
            s.add(row)
            await s.flush()
            booked.append(row)
        if not booked:
            raise NothingBookable(refused=[{"date": r.date.isoformat(), "code": r.code, "detail": r.detail} for r in refused])
        series.refused = [r.as_json() for r in refused]
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
        resource = await store.locked_resource(s, series.resource_id)
        check_may_act_on(actor, series, resource.location_id)  # as for each occurrence: its booker, the admins, staff there
        decides_here = actor.may(Duty.DECIDE, resource.location_id)
        if decides_here and acts_for_someone_else(actor, series) and not reason.strip():
            raise ReasonRequired("Staff cancelling someone's series must say why", field="reason")
        policy = await catalogue.policy_of(s, resource)
        query = select(Booking).where(Booking.series_id == series_id, Booking.start >= cutoff).order_by(Booking.start)
        cancelled = []
        for booking in (await s.execute(query)).scalars():
            if still_cancellable(booking, policy, decides_here, now=now):
                mark_cancelled(s, booking, actor, reason, now=now)
                cancelled.append(booking)
        if cancelled and acts_for_someone_else(actor, series):
            audit.record(
                s, Action.SERIES_CANCELLED, actor_id=actor.person_id, at=now, object_id=series.id, location_id=resource.location_id,
                subject_id=series.person_id, reason=reason.strip(), after={"cancelled": [b.id for b in cancelled], "from": as_utc(cutoff)},
            )  # fmt: skip
    if cancelled:  # after the commit, in its own transaction: the freed evenings go to whoever waits
        await offers.offer_freed_capacity(db, series.resource_id, now=now)
    return cancelled


def still_cancellable(booking: Booking, policy: Policy, decides_here: bool, *, now: datetime) -> bool:
    """An occurrence the actor may still cancel: not begun, requested or confirmed, and (for all but staff who decide
    at its place) before the cancellation deadline."""
    if booking.start < now or BookingStatus(booking.status) not in rules.CANCELLABLE:
        return False
    try:
        rules.check_cancellable(BookingStatus(booking.status), booking.start, policy, decides_here, now=now)
    except rules.CancellationTooLate:
        return False
    return True


@dataclass(frozen=True)
class SeriesView:
    """A series as its page shows it: every occurrence it got, the dates it could not get and why, and which
    occurrences cancelling the rest would cancel (none when the viewer may not)."""

    series: BookingSeries
    bookings: list[Booking]
    refused: list[Refusal]
    may_act: bool
    rest: list[Booking]
    needs_reason: bool = False  # staff cancelling someone else's series say why


async def show_series(db: Db, actor: Actor, series_id: int, *, now: datetime) -> SeriesView:
    """A series for the booker, its association's members and staff; to anyone else it is unknown (404), as a
    booking is, so a guessed number tells nothing."""
    async with db.read() as s:
        series = await s.get(BookingSeries, series_id)
        resource = await catalogue.get_resource(s, series.resource_id) if series is not None else None
        if series is None or not may_see(actor, series.person_id, series.association_id, resource.location_id):
            raise NotFound(f"No series {series_id}", series_id=series_id)
        query = select(Booking).where(Booking.series_id == series_id).order_by(Booking.start, Booking.id)
        rows = list((await s.execute(query)).scalars())
        policy = await catalogue.policy_of(s, resource)
    try:
        check_may_act_on(actor, series, resource.location_id)  # the booker, the association's admins, staff: as for each occurrence
        may_act = True
    except Forbidden:
        may_act = False
    decides_here = actor.may(Duty.DECIDE, resource.location_id)
    rest = [b for b in rows if may_act and still_cancellable(b, policy, decides_here, now=now)]
    refused = [Refusal.from_json(r) for r in series.refused or []]
    return SeriesView(series, rows, refused, may_act, rest, needs_reason=decides_here and acts_for_someone_else(actor, series))


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
            refused.append(Refusal.of(day, start, end, refusal))
            continue
        row.hold_for_offer()
        s.add(row)
        held.append(row)
    series.refused = [r.as_json() for r in refused]
    await s.flush()
    return held, refused


class SkippedDate(DomainError):
    code = ErrorCode.HOLIDAY
    status = 409
    title = "A holiday of the term: not booked"
