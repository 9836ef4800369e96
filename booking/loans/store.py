"""Queries of loans: a loan is a booking of a pooled resource, so these read the booking table for loans only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import store
from booking.loans.rules import NotALoan
from booking.rules import BookingStatus
from booking.store import HANDED_OUT_VALUES, Booking
from infra.time import Interval
from resources.store import Resource

LOANS = select(Booking).where(Booking.exclusive.is_(False))


async def loan_for_handover(s: AsyncSession, booking_id: int) -> Booking:
    """The loan, locked: hand-overs of one loan never cross."""
    loan = await store.get_booking(s, booking_id, for_update=True)
    if loan.exclusive:
        raise NotALoan(booking_id=booking_id)
    return loan


async def checked_out_past_return(s: AsyncSession, *, now: datetime) -> list[Booking]:
    """Loans handed out and not back by their return time, not yet marked overdue."""
    query = LOANS.where(Booking.status == BookingStatus.CHECKED_OUT.value, Booking.end <= now)
    return list((await s.execute(query)).scalars())


def at_places(places: frozenset[int] | None) -> tuple[ColumnElement[bool], ...]:
    """Loans of items at these places only (None: everywhere)."""
    if places is None:
        return ()
    return (Booking.resource_id.in_(select(Resource.id).where(Resource.location_id.in_(places))),)


async def out_past_return(s: AsyncSession, *, now: datetime, places: frozenset[int] | None = None) -> list[Booking]:
    """Every loan handed out and past its return time, overdue or about to be, soonest due first."""
    query = LOANS.where(Booking.status.in_(HANDED_OUT_VALUES), Booking.end <= now, *at_places(places)).order_by(Booking.end)
    return list((await s.execute(query)).scalars())


async def _loans_where(s: AsyncSession, *conditions: ColumnElement[bool]) -> Sequence[Booking]:
    return (await s.execute(LOANS.where(*conditions).order_by(Booking.start, Booking.id))).scalars().all()


async def handovers_in(s: AsyncSession, span: Interval, *, places: frozenset[int] | None = None) -> tuple[list[Booking], list[Booking]]:
    """The pickups (confirmed loans starting in the span) and returns (handed out, due in the span), at these places."""
    confirmed = Booking.status == BookingStatus.CONFIRMED.value
    pickups = await _loans_where(s, confirmed, Booking.start >= span.start, Booking.start < span.end, *at_places(places))
    returns = await _loans_where(
        s, Booking.status.in_(HANDED_OUT_VALUES), Booking.end >= span.start, Booking.end < span.end, *at_places(places)
    )
    return list(pickups), list(returns)
