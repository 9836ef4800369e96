"""Tables and queries for bookings, series and idempotency records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Index,
    Select,
    String,
    UniqueConstraint,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from booking.rules import ACTIVE, BookingStatus
from infra.database import UtcDateTime
from infra.errors import NotFound
from infra.rows import get_or_404, is_postgresql
from infra.time import Interval
from resources.store import Resource, get_resource


class BookingSeries(SQLModel, table=True):
    __tablename__ = "booking_series"
    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    association_id: int | None = Field(default=None, foreign_key="association.id")
    title: str = Field(default="", max_length=200)
    every_weeks: int = 1
    until: date
    created_at: datetime = Field(sa_type=UtcDateTime)
    # The dates the series could not get, each with its refusal's code and numbers: its page keeps saying why.
    refused: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


HANDED_OUT_VALUES = (BookingStatus.CHECKED_OUT.value, BookingStatus.OVERDUE.value)
HANDED_OUT_SQL = f"status IN ({', '.join(repr(v) for v in HANDED_OUT_VALUES)})"


class Booking(SQLModel, table=True):
    # Led by block_end: "ends after the span starts" skips all past history, so overlap checks stay bounded.
    __table_args__ = (
        Index("ix_booking_resource_block", "resource_id", "block_end", "block_start"),
        # A borrower's running and overdue loans are found without reading their whole history.
        Index("ix_booking_person_end", "person_id", "end"),
        Index("ix_booking_association_end", "association_id", "end"),
        # The loans a borrower has out now: the overdue check reads these, never their past loans.
        Index("ix_booking_person_handed_out", "person_id", sqlite_where=text(HANDED_OUT_SQL), postgresql_where=text(HANDED_OUT_SQL)),
        Index(
            "ix_booking_association_handed_out", "association_id", sqlite_where=text(HANDED_OUT_SQL), postgresql_where=text(HANDED_OUT_SQL)
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)
    series_id: int | None = Field(default=None, foreign_key="booking_series.id", index=True)
    title: str = Field(default="", max_length=200)
    start: datetime = Field(sa_type=UtcDateTime)
    end: datetime = Field(sa_type=UtcDateTime)
    # The span the booking occupies, buffers included: what invariant 1 is checked on.
    block_start: datetime = Field(sa_type=UtcDateTime)
    block_end: datetime = Field(sa_type=UtcDateTime)
    exclusive: bool = True
    quantity: int = 1
    attendees: int | None = None
    status: str = Field(max_length=12, index=True)
    sequence: int = 0
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision_reason: str = ""
    cancelled_by: int | None = Field(default=None, foreign_key="person.id")
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancel_reason: str = ""
    # Equipment loans: the kit they were borrowed in, and the hand-over at the counter.
    kit_loan_id: str | None = Field(default=None, max_length=36, index=True)
    checked_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    checked_out_by: int | None = Field(default=None, foreign_key="person.id")
    check_out_note: str = ""
    returned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    returned_by: int | None = Field(default=None, foreign_key="person.id")
    return_condition: str = Field(default="", max_length=20)
    return_note: str = ""
    missing_units: int = 0

    # ------------------------------------------------------------ transitions, each once, beside the states
    # The checks that allow them are the rules' (`check_cancellable`, `check_decidable`, …); these only record them.

    def changed(self, now: datetime) -> None:
        """A change the booker's calendar must hear of: its invitation's SEQUENCE goes up."""
        self.sequence += 1
        self.updated_at = now

    def cancel(self, by: int, reason: str, *, now: datetime) -> None:
        """Cancelled bookings are kept with who, when and why."""
        self.status = BookingStatus.CANCELLED.value
        self.cancelled_by, self.cancelled_at, self.cancel_reason = by, now, reason.strip()
        self.changed(now)

    def decide(self, *, approve: bool, by: int, reason: str, now: datetime) -> None:
        """A request approved keeps its slot; declined, it frees it."""
        self.status = (BookingStatus.CONFIRMED if approve else BookingStatus.DECLINED).value
        self.decided_by, self.decided_at, self.decision_reason = by, now, reason.strip()
        self.changed(now)

    def move(self, start: datetime, end: datetime, block: Interval, *, needs_new_decision: bool) -> None:
        self.start, self.end, self.block_start, self.block_end = start, end, block.start, block.end
        if needs_new_decision:
            self.status = BookingStatus.REQUESTED.value

    def hand_over(self, by: int, note: str, *, at: datetime, now: datetime) -> None:
        self.status = BookingStatus.CHECKED_OUT.value
        self.checked_out_at, self.checked_out_by, self.check_out_note = at, by, note.strip()
        self.updated_at = now

    def take_back(self, by: int, condition: str, note: str, missing_units: int, *, at: datetime, now: datetime) -> None:
        self.status = BookingStatus.RETURNED.value
        self.returned_at, self.returned_by = at, by
        self.return_condition, self.return_note, self.missing_units = condition, note.strip(), missing_units
        self.updated_at = now

    def fall_overdue(self, *, now: datetime) -> None:
        self.status, self.updated_at = BookingStatus.OVERDUE.value, now

    def hold_for_offer(self) -> None:
        """Capacity held for someone in line: active, so no one else can book it, until they answer."""
        self.status = BookingStatus.OFFERED.value

    def answer_offer(self, accepted: bool, *, needs_approval: bool, now: datetime) -> None:
        """Accepted, the held capacity becomes the person's booking (a request where approval is needed)."""
        if accepted:
            self.status = (BookingStatus.REQUESTED if needs_approval else BookingStatus.CONFIRMED).value
        else:
            self.status = BookingStatus.DECLINED.value
        self.changed(now)

    def expire_offer(self, *, now: datetime) -> None:
        self.status = BookingStatus.EXPIRED.value
        self.changed(now)


def new_booking(**values: object) -> Booking:
    """A new, unsaved booking from values our rules have already checked, built five times quicker than
    `Booking(...)` (every booking pays for it): pydantic's `model_construct` skips validation, and SQLAlchemy's
    state is attached as its own constructor would, so a session can still add the booking."""
    booking = Booking.model_construct(**values)
    Booking._sa_class_manager._new_state_if_none(booking)
    return booking


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request with an Idempotency-Key, replayed to every retry."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("person_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status_code: int
    body: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)


ACTIVE_VALUES = tuple(s.value for s in ACTIVE)


def one_of(column: ColumnElement[str], values: tuple[str, ...]) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with the values written into the statement: a fixed set of our own states needs
    no expanding parameter, which would be rendered again on every execution. Sorted: a set's order changes from
    one process to the next, and the statement's text must not (migration 0017 holds one)."""
    return column.in_([literal_column(f"'{value}'") for value in sorted(values)])


async def lock_resource(s: AsyncSession, resource_id: int) -> Resource | None:
    """Serialise writers of one resource: a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the
    whole database, so there nothing more is read."""
    if not is_postgresql(s):
        return None
    return await get_or_404(s, Resource, resource_id, what="resource", key="resource_id", lock=True)


async def lock_resource_as_seen(s: AsyncSession, seen: Resource) -> bool | None:
    """PostgreSQL: lock the resource's row and say whether it is as `seen` (None on SQLite, where nothing is locked):
    two columns read without the ORM, as every loan asks."""
    if not is_postgresql(s):
        return None
    table = Resource.__table__
    query = select(table.c.updated_at, table.c.policy).where(table.c.id == seen.id).with_for_update()
    row = (await (await s.connection()).execute(query)).first()
    if row is None:
        raise NotFound(f"No resource {seen.id}", resource_id=seen.id)
    return row.updated_at == seen.updated_at and row.policy == seen.policy


async def locked_resource(s: AsyncSession, resource_id: int) -> Resource:
    """The resource row, read inside the write transaction (and locked on PostgreSQL)."""
    return await lock_resource(s, resource_id) or await get_resource(s, resource_id)


def active_meeting(start: str, end: str) -> tuple:
    """Active bookings of the resource whose block meets [start, end), the bounds named as parameters."""
    return (
        Booking.resource_id == bindparam("resource_id"),
        one_of(Booking.status, ACTIVE_VALUES),
        Booking.block_start < bindparam(end),
        Booking.block_end > bindparam(start),
    )


# Statements are built once: every booking runs them, and building one costs more than SQLite takes to answer it.
# `excluding` is a booking being moved (its own block does not count); 0 excludes nothing (ids start at 1).
ACTIVE_BLOCKS = (
    select(Booking.block_start, Booking.block_end, Booking.quantity)
    .where(*active_meeting("span_start", "span_end"), Booking.id != bindparam("excluding"))
    .order_by(Booking.block_start)
)


async def active_blocks(s: AsyncSession, resource_id: int, span: Interval, *, excluding: int | None = None) -> list:
    """The occupied blocks (and units) of a resource's active bookings that meet the span: rows of
    `block_start`, `block_end`, `quantity` — only what overlap and stock checks read, not whole bookings."""
    params = {"resource_id": resource_id, "span_start": span.start, "span_end": span.end, "excluding": excluding or 0}
    # On the session's connection: no flush first (what waits for COMMIT is the outbox, not bookings).
    return list((await (await s.connection()).execute(ACTIVE_BLOCKS, params)).all())


async def get_booking(s: AsyncSession, booking_id: int, *, for_update: bool = False) -> Booking:
    return await get_or_404(s, Booking, booking_id, what="booking", key="booking_id", lock=for_update)


# An association's active bookings of one resource meeting a span (built once: every association's booking runs it).
# A resource's quota is its own policy's, so it counts that resource's hours only: never another room's, never loans.
ASSOCIATION_HOURS = select(Booking.start, Booking.end).where(
    Booking.resource_id == bindparam("resource_id"),
    Booking.association_id == bindparam("association_id"),
    one_of(Booking.status, ACTIVE_VALUES),
    Booking.start < bindparam("span_end"),
    Booking.end > bindparam("span_start"),
    Booking.id != bindparam("excluding"),
)


async def hours_booked_by_association(
    s: AsyncSession, association_id: int, resource_id: int, span: Interval, *, excluding: int | None = None
) -> float:
    """The hours of the span (a week) the association holds of one resource; `excluding` a booking being moved."""
    params = {"resource_id": resource_id, "association_id": association_id, "span_start": span.start, "span_end": span.end}
    rows = (await (await s.connection()).execute(ASSOCIATION_HOURS, {**params, "excluding": excluding or 0})).all()
    return sum((min(end, span.end) - max(start, span.start)).total_seconds() for start, end in rows) / 3600


async def active_count_of_person(s: AsyncSession, person_id: int, resource_id: int, *, after: datetime) -> int:
    """A person's own (not their association's) active bookings of one resource still to come."""
    query = (
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.person_id == person_id,
            Booking.resource_id == resource_id,
            Booking.association_id.is_(None),
            Booking.status.in_(ACTIVE_VALUES),
            Booking.end > after,
        )
    )
    return int((await s.execute(query)).scalar_one())


def out_now(*borrower: ColumnElement[bool]) -> Select:
    """How many of the borrower's loans out now are overdue: reads the loans out now only (a partial index)."""
    return select(func.count().filter(Booking.end <= bindparam("now"))).where(
        Booking.exclusive.is_(False), *borrower, one_of(Booking.status, HANDED_OUT_VALUES)
    )


def running(*borrower: ColumnElement[bool]) -> Select:
    """How many loans the borrower has running (a kit counts once): reads loans not yet ended only."""
    loan = func.coalesce(Booking.kit_loan_id, func.cast(Booking.id, String))
    return select(func.count(func.distinct(loan))).where(
        Booking.exclusive.is_(False), *borrower, one_of(Booking.status, ACTIVE_VALUES), Booking.end > bindparam("now")
    )


# Who borrows: a person for themselves, or an association. In a loan's own insert these are its own columns.
PERSON = (Booking.person_id == bindparam("person_id"), Booking.association_id.is_(None))
ASSOCIATION = (Booking.association_id == bindparam("association_id"),)
# Built once each: (overdue) alone, or (overdue, running) when a quota of loans applies.
STANDING = {
    (association, with_running): select(out_now(*who).scalar_subquery(), *([running(*who).scalar_subquery()] if with_running else []))
    for association, who in ((False, PERSON), (True, ASSOCIATION))
    for with_running in (False, True)
}


async def borrower_standing(
    s: AsyncSession, person_id: int, association_id: int | None, *, now: datetime, with_running: bool
) -> tuple[int, int | None]:
    """(overdue loans, running loans or None when not asked) of a person borrowing for themselves, or of an association."""
    statement = STANDING[(association_id is not None, with_running)]
    params = {"person_id": person_id, "now": now} if association_id is None else {"association_id": association_id, "now": now}
    counts = (await (await s.connection()).execute(statement, params)).one()
    return int(counts[0]), (int(counts[1]) if with_running else None)


async def idempotency_record(s: AsyncSession, person_id: int, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(IdempotencyRecord.person_id == person_id, IdempotencyRecord.key == key)
    return (await s.execute(query)).scalar_one_or_none()
