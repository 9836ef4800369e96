"""Queries that gather what mails, reminders and feeds tell: bookings with their place, people and associations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, String, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from booking.store import ACTIVE_VALUES as ACTIVE
from booking.store import Booking, BookingSeries
from infra.rows import is_postgresql, locked
from notifications.recurrence import Series
from notifications.rules import BookingFacts, Place
from people.store import Association, Membership, Person
from resources.store import Closure, Location, Resource

_BOOKING_COLUMNS = (
    Booking.id,
    Booking.title,
    Booking.start,
    Booking.end,
    Booking.status,
    Booking.sequence,
    Booking.updated_at,
    Resource.name,
    Location.name,
    Location.address,
    Location.postal_code,
    Location.city,
    Location.access_notes,
    Association.name,
    Resource.kind,
    Booking.quantity,
    Booking.kit_loan_id,
    Booking.series_id,
)


def _with_place(query: Select) -> Select:
    return (
        query.join(Resource, Resource.id == Booking.resource_id)
        .join(Location, Location.id == Resource.location_id)
        .outerjoin(Association, Association.id == Booking.association_id)
    )


def _facts(row: Row) -> tuple[BookingFacts, datetime]:
    (id_, title, start, end, status, sequence, updated_at, resource, location, address, postal_code, city, access, *rest) = row
    association, kind, quantity, kit_loan_id, series_id = rest
    place = Place(resource, location, address, postal_code, city, access)
    facts = BookingFacts(id_, title, start, end, status, sequence, place, association or "", kind, quantity, kit_loan_id, series_id)
    return facts, updated_at


async def bookings_by_id(s: AsyncSession, ids: set[int]) -> dict[int, BookingFacts]:
    if not ids:
        return {}
    rows = await s.execute(_with_place(select(*_BOOKING_COLUMNS)).where(Booking.id.in_(ids)))
    return {facts.id: facts for facts, _ in map(_facts, rows.all())}


async def series_bookings(s: AsyncSession, series_ids: set[int]) -> dict[int, list[BookingFacts]]:
    """The active occurrences of each series, in order."""
    if not series_ids:
        return {}
    query = _with_place(select(Booking.series_id, *_BOOKING_COLUMNS)).where(Booking.series_id.in_(series_ids), Booking.status.in_(ACTIVE))
    found: dict[int, list[BookingFacts]] = {}
    for row in (await s.execute(query.order_by(Booking.start))).all():
        found.setdefault(row[0], []).append(_facts(row[1:])[0])
    return found


async def series_of(s: AsyncSession, series_ids: set[int]) -> dict[int, Series]:
    """Each series' interval and every occurrence it ever had: a calendar knows a series by the pattern they keep,
    which cancelling some (or moving one) must not shift."""
    if not series_ids:
        return {}
    weeks = dict((await s.execute(select(BookingSeries.id, BookingSeries.every_weeks).where(BookingSeries.id.in_(series_ids)))).all())
    query = select(Booking.series_id, Booking.start, Booking.end, Booking.sequence).where(Booking.series_id.in_(series_ids))
    found: dict[int, list[tuple[datetime, datetime, int]]] = {i: [] for i in weeks}
    for series_id, start, end, sequence in (await s.execute(query.order_by(Booking.start))).all():
        found[series_id].append((start, end, sequence))
    return {
        i: Series(i, weeks[i], tuple((a, b) for a, b, _ in rows), tuple((a, b) for a, b, n in rows if n == 0)) for i, rows in found.items()
    }


async def kit_loans(s: AsyncSession, kit_loan_ids: set[str]) -> dict[str, list[BookingFacts]]:
    """The loans of each kit loan, item by item in the order they were made."""
    if not kit_loan_ids:
        return {}
    query = _with_place(select(*_BOOKING_COLUMNS)).where(Booking.kit_loan_id.in_(kit_loan_ids))
    found: dict[str, list[BookingFacts]] = {}
    for facts, _ in map(_facts, (await s.execute(query.order_by(Booking.id))).all()):
        found.setdefault(facts.kit_loan_id, []).append(facts)
    return found


async def people_by_id(s: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await s.execute(select(Person).where(Person.id.in_(ids)))).scalars()}


async def feed_bookings(
    s: AsyncSession, *, person_id: int | None = None, association_id: int | None = None, since: datetime
) -> list[tuple[BookingFacts, datetime]]:
    """Active bookings someone made (for themselves or an association) or an association holds, not long past."""
    query = _with_place(select(*_BOOKING_COLUMNS)).where(Booking.status.in_(ACTIVE), Booking.end >= since)
    if association_id is not None:
        query = query.where(Booking.association_id == association_id)
    else:
        query = query.where(Booking.person_id == person_id)
    return [_facts(row) for row in (await s.execute(query.order_by(Booking.start, Booking.id))).all()]


@dataclass(frozen=True)
class Loan:
    start: datetime
    end: datetime
    quantity: int
    updated_at: datetime


def ics_utc(s: AsyncSession, column: ColumnElement[datetime]) -> ColumnElement[str]:
    """A time as iCalendar writes it in UTC, formatted by the database: per-value Python conversion costs more than
    the rest of a 10,000-booking feed together."""
    if is_postgresql(s):
        text = func.to_char(func.timezone("UTC", column), 'YYYYMMDD"T"HH24MISS"Z"')
    else:
        text = func.strftime("%Y%m%dT%H%M%SZ", column)
    return type_coerce(text, String)


async def busy_blocks(s: AsyncSession, resource_id: int, *, since: datetime) -> list[tuple[int, str, str, int, str]]:
    """(id, start, end, sequence, last change) of the blocks, buffers included, that a resource's active bookings
    occupy: when it cannot be booked, and nothing of by whom."""
    query = select(
        Booking.id, ics_utc(s, Booking.block_start), ics_utc(s, Booking.block_end), Booking.sequence, ics_utc(s, Booking.updated_at)
    )
    query = query.where(Booking.resource_id == resource_id, Booking.status.in_(ACTIVE), Booking.block_end >= since)
    connection = await s.connection()  # plain rows: the ORM's result machinery would double the time
    return (await connection.execute(query.order_by(Booking.block_start, Booking.id))).all()


async def closures_of(s: AsyncSession, resource_id: int, *, since: datetime) -> list[Closure]:
    """The resource's closures not long past: staff wrote their reasons for everyone to read."""
    query = select(Closure).where(Closure.resource_id == resource_id, Closure.end >= since)
    return list((await s.execute(query.order_by(Closure.start, Closure.id))).scalars())


async def loans_of(s: AsyncSession, resource_id: int, *, since: datetime) -> list[Loan]:
    query = select(Booking.block_start, Booking.block_end, Booking.quantity, Booking.updated_at).where(
        Booking.resource_id == resource_id,
        Booking.status.in_(ACTIVE),
        Booking.block_end >= since,
    )
    return [Loan(*row) for row in (await s.execute(query.order_by(Booking.block_start))).all()]


async def lock_person(s: AsyncSession, person_id: int) -> Person:
    """The person's row, locked until commit on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises)."""
    return (await s.execute(locked(s, select(Person).where(Person.id == person_id)))).scalar_one()


async def is_member(s: AsyncSession, association_id: int, person_id: int) -> bool:
    query = select(Membership.id).where(Membership.association_id == association_id, Membership.person_id == person_id)
    return (await s.execute(query)).first() is not None


async def reminder_candidates(s: AsyncSession, *, now: datetime, until: datetime) -> list[tuple[Booking, str]]:
    """Confirmed bookings starting, and handed-out loans due back, between now and `until`, with their resource's kind."""
    starting = (Booking.status == "confirmed") & (Booking.start > now) & (Booking.start <= until)
    due_back = (Booking.status == "checked_out") & (Booking.end > now) & (Booking.end <= until)
    query = select(Booking, Resource.kind).join(Resource, Resource.id == Booking.resource_id).where(or_(starting, due_back))
    return [(booking, kind) for booking, kind in (await s.execute(query.order_by(Booking.start, Booking.id))).all()]
