"""The writes every booking pays for, each check and its insert in one statement (one round trip): unless overlapping,
a loan that clearly fits, and on PostgreSQL the booking's outbox event in the same statement."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Insert,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.expression import Executable

from booking.store import ACTIVE_VALUES, ASSOCIATION, PERSON, Booking, active_meeting, one_of, out_now, running
from infra import outbox
from infra.database import WAKE_AFTER_COMMIT
from infra.outbox import Notification
from infra.rows import is_postgresql
from resources.store import Resource

BOOKING_COLUMNS = tuple(c.key for c in Booking.__table__.columns if c.key != "id")
INSERT_BOOKING = Booking.__table__.insert().returning(Booking.__table__.c.id)


def _insert_where(*conditions: ColumnElement[bool]) -> Insert:
    """INSERT … SELECT the booking's own values … WHERE the conditions hold: a check and its insert in one statement."""
    table = Booking.__table__
    row = select(*(bindparam(key, type_=table.c[key].type) for key in BOOKING_COLUMNS)).where(*conditions)
    return table.insert().from_select(BOOKING_COLUMNS, row).returning(table.c.id)


# An exclusive resource's booking, inserted unless an active booking's block overlaps its own (one round trip).
INSERT_UNLESS_OVERLAPPING = _insert_where(~exists(select(literal_column("1")).where(*active_meeting("block_start", "block_end"))))


EVENT = Notification.__table__
EVENT_COLUMNS = tuple(c.key for c in EVENT.columns if c.key not in ("id", "booking_id"))


def _with_its_event(insert: Insert) -> Select:
    """PostgreSQL: the booking's insert and its outbox event's in one statement (one round trip)."""
    booked = insert.cte("booked")
    event = select(*(bindparam(f"event_{key}", type_=EVENT.c[key].type) for key in EVENT_COLUMNS), booked.c.id).select_from(booked)
    return select(booked.c.id).add_cte(EVENT.insert().from_select([*EVENT_COLUMNS, "booking_id"], event).cte("told"))


def _booked_with_its_event() -> Select:
    """PostgreSQL, one round trip for a booking: the resource's row locked if it is as we remembered it, the booking
    inserted unless an active block overlaps, and its outbox event inserted with it. A statement sees the database
    as of its start, so a twin that held the lock and committed meanwhile is caught by `booking_no_overlap`."""
    resources, table = Resource.__table__, Booking.__table__
    locked = (
        select(resources.c.id)
        .where(
            resources.c.id == bindparam("resource_id"),
            resources.c.updated_at == bindparam("seen_updated_at", type_=resources.c.updated_at.type),
            cast(resources.c.policy, JSONB) == cast(bindparam("seen_policy", type_=JSON), JSONB),  # as `as_locked` compares
        )
        .with_for_update()
        .cte("locked")
    )
    row = (
        select(*(bindparam(key, type_=table.c[key].type) for key in BOOKING_COLUMNS))
        .select_from(locked)
        .where(~exists(select(literal_column("1")).where(*_meets_in_the_constraints_terms())))
    )
    return _with_its_event(table.insert().from_select(BOOKING_COLUMNS, row).returning(table.c.id))


def _meets_in_the_constraints_terms() -> tuple:
    """An active exclusive block of the resource meeting the new one, said as `booking_no_overlap` says it, so that
    its GiST index answers even in a prepared statement's generic plan (which cannot see how narrow the window is)."""
    when = Booking.__table__.c.block_start.type
    half_open = literal_column("'[)'")  # a constant, as in the index's expression (a parameter would not match it)
    asked = func.tstzrange(bindparam("block_start", type_=when), bindparam("block_end", type_=when), half_open)
    return (
        Booking.resource_id == bindparam("resource_id"),
        Booking.exclusive,
        one_of(Booking.status, ACTIVE_VALUES),
        func.tstzrange(Booking.block_start, Booking.block_end, half_open).op("&&")(asked),
    )


BOOKED_WITH_ITS_EVENT = _booked_with_its_event()


def _event_params(booking: Booking, kind: str, at: datetime) -> dict[str, Any]:
    event = {
        **outbox.NEW_ROW,
        "kind": kind,
        "person_id": booking.person_id,
        "payload": outbox.as_of(booking),
        "created_at": at,
        "next_attempt_at": at,
    }
    return {f"event_{key}": event[key] for key in EVENT_COLUMNS}


async def insert_with_its_event(conn: AsyncConnection, booking: Booking, seen: Resource, *, kind: str, at: datetime) -> Booking | None:
    """PostgreSQL: book an exclusive resource and record the booking's event in one statement; None when the resource
    changed since it was read or a block overlaps (nothing is written: the caller takes the careful way)."""
    params = _values_of(booking) | _event_params(booking, kind, at) | {"seen_updated_at": seen.updated_at, "seen_policy": seen.policy}
    return await _told_on(conn, BOOKED_WITH_ITS_EVENT, params, booking)


def _values_of(booking: Booking) -> dict[str, Any]:
    return {key: getattr(booking, key) for key in BOOKING_COLUMNS}


async def _told_on(conn: AsyncConnection, statement: Executable, params: dict[str, Any], booking: Booking) -> Booking | None:
    """Run a quick booking's one statement; sets the booking's id, None if nothing was written. Its event was: the
    sender wakes once the statement has committed, as for any recorded event."""
    booking.id = (await conn.execute(statement, params)).scalar_one_or_none()
    if booking.id is None:
        return None
    conn.info[WAKE_AFTER_COMMIT] = True
    return booking


async def _insert(s: AsyncSession, statement: Insert, booking: Booking, **params: Any) -> Booking | None:
    """Run an insert of this booking on the session's connection (no unit of work); sets its id, None if not inserted."""
    booking.id = (await (await s.connection()).execute(statement, _values_of(booking) | params)).scalar_one_or_none()
    return booking if booking.id is not None else None


async def insert_booking(s: AsyncSession, booking: Booking) -> Booking:
    """Insert a new booking in one statement (no unit of work: each booking pays for its own); sets its id."""
    return await _insert(s, INSERT_BOOKING, booking)


async def insert_unless_overlapping(s: AsyncSession, booking: Booking) -> Booking | None:
    """Insert the booking of an exclusive resource unless an active booking's block overlaps its block; sets its id.
    None when one does (nothing is written: the caller looks for which, to say so)."""
    return await _insert(s, INSERT_UNLESS_OVERLAPPING, booking)


def _insert_loan_if_clearly_fitting(*borrower: ColumnElement[bool]) -> Insert:
    """A loan, inserted only when its checks clearly pass: the units of every overlapping loan together leave
    enough stock (their sum bounds their busiest instant), and the borrower (unless staff) has nothing overdue
    and loans to spare. The borrower is the loan's own person or association."""
    units_out = select(func.coalesce(func.sum(Booking.quantity), 0)).where(*active_meeting("block_start", "block_end"))
    overdue = out_now(*borrower).where(Booking.end <= bindparam("now")).with_only_columns(literal_column("1"))
    max_loans = bindparam("max_loans", type_=Integer)
    in_good_standing = and_(~exists(overdue), or_(max_loans.is_(None), running(*borrower).scalar_subquery() < max_loans))
    return _insert_where(
        units_out.scalar_subquery() + bindparam("quantity") <= bindparam("stock", type_=Integer),
        or_(bindparam("lends_freely", type_=Boolean), in_good_standing),
    )


INSERT_LOAN_IF_CLEARLY_FITTING = {False: _insert_loan_if_clearly_fitting(*PERSON), True: _insert_loan_if_clearly_fitting(*ASSOCIATION)}


LOAN_WITH_ITS_EVENT = {key: _with_its_event(statement) for key, statement in INSERT_LOAN_IF_CLEARLY_FITTING.items()}


def _read_from_json(statement: Select) -> tuple[str, dict[str, Any]]:
    """The statement as `allmenning_lend`'s body runs it, each parameter read from the function's one JSON argument
    (`p_params->>'name'`, cast as SQLAlchemy casts it), and the statement's own constants."""
    compiled = statement.compile(dialect=PGDialect_asyncpg())
    names = compiled.positiontup or []
    constants = {key: value for key, value in compiled.params.items() if value is not None}
    return re.sub(r"\$(\d+)", lambda m: f"(p_params->>'{names[int(m[1]) - 1]}')", compiled.string), constants


_BY_PERSON, _BY_ASSOCIATION = (_read_from_json(LOAN_WITH_ITS_EVENT[key]) for key in (False, True))
LOAN_CONSTANTS = {False: _BY_PERSON[1], True: _BY_ASSOCIATION[1]}

# PL/pgSQL plans the static statements of a function once per connection (an EXECUTE of text is parsed and planned
# at every call, which cost PostgreSQL twice the loan's own work). Migration 0017 holds this body as it was then; a
# test fails when the loan's statement has changed since, with the body a new migration must install.
LEND_FUNCTION_BODY = f"""
DECLARE
    new_id integer;
BEGIN
    PERFORM 1 FROM resource
        WHERE id = p_resource AND updated_at = p_seen_updated_at AND policy::jsonb = p_seen_policy FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_params->>'association_id' IS NULL THEN
        {_BY_PERSON[0]} INTO new_id;
    ELSE
        {_BY_ASSOCIATION[0]} INTO new_id;
    END IF;
    RETURN new_id;
END
"""
LEND = text("SELECT allmenning_lend(:resource_id, :seen_updated_at, CAST(:seen_policy AS jsonb), CAST(:params AS jsonb))").bindparams(
    bindparam("seen_updated_at", type_=Resource.__table__.c.updated_at.type)
)


def _as_json(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


async def lend_in_one_call(
    conn: AsyncConnection, loan: Booking, seen: Resource, *, stock: int, max_loans: int | None, lends_freely: bool, now: datetime,
    told_as: str,
) -> Booking | None:  # fmt: skip
    """PostgreSQL: the resource locked if it is as `seen`, then the loan and its event inserted when its checks clearly
    pass, in one call of `allmenning_lend` that commits by itself. None when not (nothing written: the careful way follows)."""
    values = LOAN_CONSTANTS[loan.association_id is not None] | _values_of(loan) | _event_params(loan, told_as, now)
    values |= {"stock": stock, "max_loans": max_loans, "lends_freely": lends_freely, "now": now}
    call = {"resource_id": seen.id, "seen_updated_at": seen.updated_at, "seen_policy": json.dumps(seen.policy)}
    return await _told_on(conn, LEND, call | {"params": json.dumps(values, default=_as_json)}, loan)


async def insert_loan_if_clearly_fitting(
    s: AsyncSession, loan: Booking, *, stock: int, max_loans: int | None, lends_freely: bool, now: datetime, told_as: str
) -> tuple[Booking | None, bool]:
    """Insert the loan when its checks clearly pass (one round trip); None when they may not (nothing written). On
    PostgreSQL its event is recorded in the same statement: the answer says whether it was."""
    params = {"stock": stock, "max_loans": max_loans, "lends_freely": lends_freely, "now": now}
    if not is_postgresql(s):
        return await _insert(s, INSERT_LOAN_IF_CLEARLY_FITTING[loan.association_id is not None], loan, **params), False
    told = await _insert(s, LOAN_WITH_ITS_EVENT[loan.association_id is not None], loan, **params, **_event_params(loan, told_as, now))
    if told is not None:
        s.info[WAKE_AFTER_COMMIT] = True
    return told, told is not None
