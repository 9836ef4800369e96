"""Reading the audit trail: bounded filters, newest first in pages, each entry with the names of who acted and whom it concerned."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from booking.rules import InvalidInterval, NaiveTimestamp
from infra.audit import Action, AuditEntry
from infra.database import Db
from infra.errors import ErrorCode, InvalidInput
from infra.settings import TIMEZONE
from people.actor import Actor, Duty, check_may
from people.rules import normalise_email
from people.service import PersonNotFound
from people.store import Person, person_by_email

KINDS = tuple(sorted({a.object_kind for a in Action}))
ACTIONS = tuple(sorted(a.value for a in Action))
WIDEST = timedelta(days=366)
MAX_LIMIT = 500
EXPORT_CAP = 50_000  # a year of a district's staff work is far less; beyond it the filters must narrow
CSV_COLUMNS = (
    "id", "at", "action", "object_kind", "object_id", "location_id",
    "actor_id", "actor", "subject_id", "subject", "reason", "before", "after",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RangeTooWide(InvalidInput):
    code = ErrorCode.RANGE_TOO_WIDE
    title = "Ask for at most 366 days of the audit trail at a time"


class UnknownObjectKind(InvalidInput):
    code = ErrorCode.UNKNOWN_OBJECT_KIND
    title = "There is no such kind of object in the audit trail"


class UnknownAction(InvalidInput):
    code = ErrorCode.UNKNOWN_ACTION
    title = "There is no such action in the audit trail"


@dataclass(frozen=True)
class Filters:
    """What to read: a span of time (required, at most 366 days), narrowed by any of the rest."""

    start: datetime
    end: datetime
    object_kind: str | None = None
    object_id: int | None = None
    person_id: int | None = None  # as the one who acted or the one it concerned
    location_id: int | None = None
    action: str | None = None
    limit: int = 100
    after_id: int | None = None  # the last entry of the page before: the next page goes on from there


@dataclass(frozen=True)
class Who:
    """A person as the trail shows them now: None is the system (or the console); an erased person is a pseudonym."""

    person_id: int | None
    name: str = ""
    erased: bool = False

    @property
    def display(self) -> str:
        if self.person_id is None:
            return "system"
        return f"person #{self.person_id} (erased)" if self.erased else self.name


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    action: str
    object_kind: str
    object_id: int | None
    location_id: int | None
    actor: Who
    subject: Who | None
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_after_id: int | None  # None: this was the last page


def check_filters(filters: Filters) -> None:
    """Refuse what cannot be answered, or not within bounds: nothing is read for it."""
    if filters.start.tzinfo is None or filters.end.tzinfo is None:
        raise NaiveTimestamp("from and to must carry their time zone", field="from")
    if filters.start >= filters.end:
        raise InvalidInterval("to must come after from", field="to")
    if filters.end - filters.start > WIDEST:
        raise RangeTooWide(f"At most {WIDEST.days} days at a time", field="from", max_days=WIDEST.days)
    if filters.object_kind is not None and filters.object_kind not in KINDS:
        raise UnknownObjectKind(f"No object kind {filters.object_kind!r}", field="kind", kinds=list(KINDS))
    if filters.action is not None and filters.action not in ACTIONS:
        raise UnknownAction(f"No action {filters.action!r}", field="action", actions=list(ACTIONS))
    if filters.object_id is not None and filters.object_kind is None:
        raise InvalidInput("An object id is read with its kind", field="kind")
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_LIMIT}", field="limit")


def check_reader(actor: Actor, location_id: int | None = None) -> frozenset[int] | None:
    """Who reads the trail reads it where they read (at that location, when one is asked): the places to keep to, None everywhere."""
    places = actor.places(Duty.READ)
    if places is not None and (not places or location_id is not None):
        check_may(actor, Duty.READ, location_id)
    return places


async def entries(db: Db, actor: Actor, filters: Filters) -> Page:
    """One page of the entries these filters find, newest first, of the places the actor reads at."""
    check_filters(filters)
    places = check_reader(actor, filters.location_id)
    async with db.read() as s:
        rows = list((await s.execute(_query(filters, places).limit(filters.limit + 1))).scalars())
        more = len(rows) > filters.limit
        rows = rows[: filters.limit]
        found = await _entries_of(s, rows)
    return Page(found, found[-1].id if more and found else None)


async def export(db: Db, actor: Actor, filters: Filters) -> list[Entry]:
    """Every entry the filters find (the CSV export), read a page at a time; too many and the filters must narrow."""
    found: list[Entry] = []
    cursor = filters.after_id
    while True:
        page = await entries(db, actor, _with(filters, limit=MAX_LIMIT, after_id=cursor))
        found.extend(page.entries)
        if len(found) > EXPORT_CAP:
            raise RangeTooWide(f"More than {EXPORT_CAP} entries: narrow the filters", field="from", max_entries=EXPORT_CAP)
        if page.next_after_id is None:
            return found
        cursor = page.next_after_id


async def find_person(db: Db, actor: Actor, text: str) -> int:
    """A person to filter by, as staff type them: an id, or an email address (an erased person only by id)."""
    check_reader(actor)
    text = text.strip()
    if text.isdigit():
        return int(text)
    async with db.read() as s:
        person = await person_by_email(s, normalise_email(text)) if "@" in text else None
    if person is None or person.id is None:
        raise PersonNotFound(f"No person {text}", field="person")
    return person.id


def _query(filters: Filters, places: frozenset[int] | None) -> Select:
    e = AuditEntry
    query = select(e).where(e.at >= filters.start, e.at < filters.end)
    if places is not None:
        # Entries of no one place (a role everywhere, a person) are read only by those who read everywhere.
        query = query.where(e.location_id.in_(sorted(places)))
    if filters.location_id is not None:
        query = query.where(e.location_id == filters.location_id)
    if filters.object_kind is not None:
        query = query.where(e.object_kind == filters.object_kind)
    if filters.object_id is not None:
        query = query.where(e.object_id == filters.object_id)
    if filters.action is not None:
        query = query.where(e.action == filters.action)
    if filters.person_id is not None:
        query = query.where(or_(e.actor_id == filters.person_id, e.subject_id == filters.person_id))
    if filters.after_id is not None:
        # Newest first by time, ties by id: the page goes on after the cursor's own (at, id).
        cursor = select(e.at).where(e.id == filters.after_id).scalar_subquery()
        query = query.where(or_(e.at < cursor, and_(e.at == cursor, e.id < filters.after_id)))
    return query.order_by(e.at.desc(), e.id.desc())


async def _entries_of(s: AsyncSession, rows: list[AuditEntry]) -> list[Entry]:
    ids = {i for row in rows for i in (row.actor_id, row.subject_id) if i is not None}
    people = await _people(s, ids)
    return [
        Entry(
            id=row.id or 0,
            at=row.at,
            action=row.action,
            object_kind=row.object_kind,
            object_id=row.object_id,
            location_id=row.location_id,
            actor=_who(row.actor_id, people),
            subject=None if row.subject_id is None else _who(row.subject_id, people),
            reason=row.reason,
            before=row.before,
            after=row.after,
        )  # fmt: skip
        for row in rows
    ]


async def _people(s: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await s.execute(select(Person).where(Person.id.in_(sorted(ids))))).scalars() if p.id is not None}


def _who(person_id: int | None, people: dict[int, Person]) -> Who:
    """The name as it is now (read from the person, never kept in the trail); gone or erased, a pseudonym."""
    if person_id is None:
        return Who(None)
    person = people.get(person_id)
    if person is None or person.erased_at is not None:
        return Who(person_id, erased=True)
    return Who(person_id, person.name or person.email)


def _with(filters: Filters, **changes: Any) -> Filters:
    return Filters(**{**filters.__dict__, **changes})


# ---------------------------------------------------------------- CSV


def as_csv(found: list[Entry]) -> str:
    """The entries as CSV with a header row; a text cell a spreadsheet would take for a formula is quoted with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in found:
        writer.writerow([_cell(value) for value in _row(e)])
    return out.getvalue()


def _row(e: Entry) -> tuple[Any, ...]:
    subject = e.subject
    return (
        e.id, e.at.astimezone(TIMEZONE).isoformat(), e.action, e.object_kind, e.object_id, e.location_id,
        e.actor.person_id, e.actor.display, None if subject is None else subject.person_id, "" if subject is None else subject.display,
        e.reason, json.dumps(e.before, ensure_ascii=False, sort_keys=True), json.dumps(e.after, ensure_ascii=False, sort_keys=True),
    )  # fmt: skip


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
