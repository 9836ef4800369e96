"""Queries that gather what mails, reminders and feeds tell: bookings with their place, people and associations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, String, bindparam, case, exists, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from booking.store import ACTIVE_VALUES as ACTIVE
from booking.store import Booking, BookingSeries, one_of
from infra.rows import is_postgresql, locked
from notifications.recurrence import Series
from notifications.rules import BookingFacts, Place
from notifications.store import CalendarFeed
from people.store import Association, Membership, Person, StaffGrant, hash_token
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


# What a feed shows of a location, its id first.
PLACE_COLUMNS = (Location.id, Location.name, Location.address, Location.postal_code, Location.city, Location.access_notes)


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


_PLACE_OF_RESOURCE = (Resource.id, Resource.kind, Resource.name, *PLACE_COLUMNS[1:])  # its id and kind, then `Place`'s fields


async def feed_rows(
    s: AsyncSession, *, person_id: int | None = None, association_id: int | None = None, since: datetime
) -> tuple[list[tuple], dict[int, tuple[Place, str]]]:
    """Active bookings someone made (for themselves or an association) or an association holds, not long past, as
    `feed_text.BookingRow`s with their times in iCalendar's text; and the place and kind of each resource among them.

    Read as plain rows of the booking table alone, and their few places apart: joining them to each of 10,000 rows
    cost as much as reading the rows, and each place is then written once for all its bookings."""
    owner = Booking.association_id == association_id if association_id is not None else Booking.person_id == person_id
    times = [ics_utc(s, column) for column in (Booking.start, Booking.end, Booking.updated_at)]
    query = select(Booking.id, Booking.title, *times, Booking.status, Booking.sequence, Booking.resource_id)
    query = query.where(Booking.status.in_(ACTIVE), Booking.end >= since, owner).order_by(Booking.start, Booking.id)
    connection = await s.connection()
    rows = (await connection.execute(query)).all()
    places = {}
    if resource_ids := {row[7] for row in rows}:
        shown = select(*_PLACE_OF_RESOURCE).join(Location, Location.id == Resource.location_id)
        for resource_id, kind, *place in (await connection.execute(shown.where(Resource.id.in_(resource_ids)))).all():
            places[resource_id] = (Place(*place), kind)
    return rows, places


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


# ---------------------------------------------------------------- feed stamps: what a feed shows, in a few numbers

# A feed is versioned before anything of it is read (`feeds.private_feed`): who holds it, and of its bookings the
# owner's newest change and the first shown booking's end. Every change to a booking stamps `updated_at` with the
# `now` of the request that made it, cancelled and long past ones too, so the newest moves with every change; and the
# first shown end moves as the history window passes a booking. Both are one index seek, however long the history.
_SINCE = bindparam("since", type_=Booking.updated_at.type)


def _latest_change(owner: ColumnElement[int], owner_id: ColumnElement[int]) -> ColumnElement[datetime]:
    """The owner's newest change to any of their bookings, by the index led by the owner and `updated_at`."""
    return select(func.max(Booking.updated_at)).where(owner == owner_id).scalar_subquery()


def _first_shown_end(owner: ColumnElement[int], end: ColumnElement[datetime], owner_id: ColumnElement[int]) -> ColumnElement[datetime]:
    """The end of the first booking the feed shows, by the owner's index led by that end (cancelled ones stepped over)."""
    shown = select(end).where(owner == owner_id, one_of(Booking.status, ACTIVE), end >= _SINCE)
    return shown.order_by(end).limit(1).scalar_subquery()


_OWN_FEED = CalendarFeed.association_id.is_(None)
FEED_VERSION = (
    select(
        CalendarFeed.person_id,
        CalendarFeed.association_id,
        Person.name,
        Person.language,
        exists().where(StaffGrant.person_id == CalendarFeed.person_id).label("is_staff"),
        Association.name.label("association_name"),
        exists()
        .where(Membership.association_id == CalendarFeed.association_id, Membership.person_id == CalendarFeed.person_id)
        .label("is_member"),
        case(
            (_OWN_FEED, _latest_change(Booking.person_id, CalendarFeed.person_id)),
            else_=_latest_change(Booking.association_id, CalendarFeed.association_id),
        ).label("latest_change"),
        case(
            (_OWN_FEED, _first_shown_end(Booking.person_id, Booking.end, CalendarFeed.person_id)),
            else_=_first_shown_end(Booking.association_id, Booking.end, CalendarFeed.association_id),
        ).label("first_shown_end"),
    )
    .join(Person, Person.id == CalendarFeed.person_id)
    .outerjoin(Association, Association.id == CalendarFeed.association_id)
    .where(CalendarFeed.token == bindparam("token_hash"), CalendarFeed.revoked_at.is_(None))
)


async def feed_version(s: AsyncSession, token: str, *, since: datetime) -> Row | None:
    """The live feed a URL's token opens, in one statement (a poll's every statement counts): its holder (name,
    language, staff or not), for an association's feed the association's name and whether the holder is a member,
    and its bookings' `latest_change` and `first_shown_end`."""
    params = {"token_hash": hash_token(token), "since": since}
    return (await (await s.connection()).execute(FEED_VERSION, params)).first()


_RESOURCE_ID = bindparam("resource_id")
RESOURCE_VERSION = select(
    Resource.name,
    Resource.kind,
    Resource.stock,
    Resource.updated_at,  # stamped by every edit, and by adding or removing a closure
    _latest_change(Booking.resource_id, _RESOURCE_ID).label("latest_change"),
    _first_shown_end(Booking.resource_id, Booking.block_end, _RESOURCE_ID).label("first_shown_end"),
    # The closures shown: the history window passing one changes these.
    select(func.count()).where(Closure.resource_id == _RESOURCE_ID, Closure.end >= _SINCE).scalar_subquery().label("closures"),
    select(func.coalesce(func.sum(Closure.id), 0))
    .where(Closure.resource_id == _RESOURCE_ID, Closure.end >= _SINCE)
    .scalar_subquery()
    .label("closure_ids"),
).where(Resource.id == _RESOURCE_ID)


async def resource_version(s: AsyncSession, resource_id: int, *, since: datetime) -> Row | None:
    """What a resource's public feed shows of the resource (name, kind, stock, last change, closures) and its bookings'
    `latest_change` and `first_shown_end`, in one statement; None when there is no such resource."""
    return (await (await s.connection()).execute(RESOURCE_VERSION, {"resource_id": resource_id, "since": since})).first()


# Whose bookings a feed shows, and the end by which a booking leaves its history window (a busy block's, buffers included).
FEED_OWNERS = {
    "person": (Booking.person_id, Booking.end),
    "association": (Booking.association_id, Booking.end),
    "resource": (Booking.resource_id, Booking.block_end),
}
# A booking's state climbs without a new SEQUENCE only when handed out and then overdue (each stamps `updated_at` alone).
_CLIMB = case((Booking.status == "checked_out", 1), (Booking.status == "overdue", 2), else_=0)


def _tally(owner: ColumnElement[int], end: ColumnElement[datetime]) -> Select:
    """The rows the feed shows, summed: which (count, ids), how often changed (sequences), how many units, how far
    along (handed out, overdue), and the newest change: every change a booking undergoes moves one of them."""
    return select(
        func.count(),
        func.coalesce(func.sum(Booking.id), 0),
        func.coalesce(func.sum(Booking.sequence), 0),
        func.coalesce(func.sum(Booking.quantity), 0),
        func.coalesce(func.sum(_CLIMB), 0),
        func.max(Booking.updated_at),
    ).where(owner == bindparam("owner_id"), one_of(Booking.status, ACTIVE), end >= _SINCE)


TALLY = {kind: _tally(*columns) for kind, columns in FEED_OWNERS.items()}


async def shown_tally(s: AsyncSession, kind: str, owner_id: int, *, since: datetime) -> tuple:
    """The bookings a feed shows (`kind`: person, association or resource), summed without reading them out: exact
    whatever order changes commit in, at the cost of an index range over the rows (no render)."""
    return tuple((await (await s.connection()).execute(TALLY[kind], {"owner_id": owner_id, "since": since})).one())


async def places_stamp(s: AsyncSession) -> tuple:
    """What a private feed shows of the catalogue, as a version: resources (name, kind) stamp `updated_at` when
    edited; locations keep no stamp, so their shown columns are read whole (a handful of rows)."""
    connection = await s.connection()
    resources = (await connection.execute(select(func.count(), func.max(Resource.updated_at)))).one()
    locations = (await connection.execute(select(*PLACE_COLUMNS).order_by(Location.id))).all()
    return (*resources, *(tuple(row) for row in locations))


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
