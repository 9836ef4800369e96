"""The outbox: one row per thing a person should hear about, written in the same transaction as the change."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Index, UniqueConstraint, Update, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from booking.store import Booking
from infra.database import WAKE_AFTER_COMMIT, UtcDateTime
from infra.outbox import FAILED, PENDING, SENT, Notification
from infra.rows import insert_for, locked
from people.store import hash_token


class JobRun(SQLModel, table=True):
    """A periodic sweep claimed for one tick: the unique (job, tick) lets exactly one process run it."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "tick", name="uq_job_run_tick"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    tick: datetime = Field(sa_type=UtcDateTime)
    owner: str = Field(default="", max_length=80)
    started_at: datetime = Field(sa_type=UtcDateTime)


# ---------------------------------------------------------------- claiming and marking


async def claim_due(s: AsyncSession, *, now: datetime, owner: str, lease_until: datetime, limit: int) -> list[Notification]:
    """Lease due rows to this owner: SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE already lets one writer in.

    The rows come back as read-only rows with the table's columns as attributes (not objects the session tracks: a
    hundred of those cost more to make than the statement), in the order of their ids."""
    due = (
        select(Notification.id)
        .where(Notification.status == PENDING, Notification.next_attempt_at <= now)
        .where(or_(Notification.lease_until.is_(None), Notification.lease_until <= now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    due = locked(s, due, skip_locked=True)
    leased = (
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(lease_until=lease_until, lease_owner=owner)
        .returning(*Notification.__table__.c)  # the leased rows themselves, in the one statement
    )
    return sorted((await (await s.connection()).execute(leased)).all(), key=lambda n: n.id)


async def any_due(s: AsyncSession, *, now: datetime) -> bool:
    """Whether a due row waits unleased: a read (the index on status and next_attempt_at), so a polling worker takes
    no write lock while nothing is due."""
    due = select(Notification.id).where(Notification.status == PENDING, Notification.next_attempt_at <= now)
    due = due.where(or_(Notification.lease_until.is_(None), Notification.lease_until <= now)).limit(1)
    return (await s.execute(due)).first() is not None


def _leased(notification_id: int, owner: str) -> Update:
    return update(Notification).where(Notification.id == notification_id, Notification.lease_owner == owner, Notification.status == PENDING)


async def mark_sent(s: AsyncSession, notification_id: int, *, owner: str, now: datetime) -> None:
    await s.execute(_leased(notification_id, owner).values(status=SENT, sent_at=now, last_attempt_at=now, lease_until=None))


async def mark_all_sent(s: AsyncSession, ids: list[int], *, owner: str, now: datetime) -> None:
    """Mark sent, in one statement, the rows this owner leased and sent since it last marked."""
    if ids:
        leased = (Notification.id.in_(ids), Notification.lease_owner == owner, Notification.status == PENDING)
        await s.execute(update(Notification).where(*leased).values(status=SENT, sent_at=now, last_attempt_at=now, lease_until=None))


async def mark_failed(
    s: AsyncSession, notification: Notification, *, owner: str, error: str, retry_at: datetime | None, now: datetime
) -> None:
    """A failed attempt: back off until `retry_at`, or, with none, fail for good where staff will see it."""
    values: dict[str, Any] = dict(attempts=notification.attempts + 1, last_error=error[:2000], last_attempt_at=now, lease_until=None)
    if retry_at is None:
        values["status"] = FAILED
    else:
        values["next_attempt_at"] = retry_at
    await s.execute(_leased(notification.id, owner).values(**values))


async def release(s: AsyncSession, ids: list[int], *, owner: str) -> None:
    """Hand back leased rows that were never tried, so the next drain takes them at once."""
    if ids:
        await s.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.lease_owner == owner, Notification.status == PENDING)
            .values(lease_until=None)
        )


async def failed(s: AsyncSession, *, limit: int) -> list[Notification]:
    query = select(Notification).where(Notification.status == FAILED)
    return list((await s.execute(query.order_by(Notification.last_attempt_at.desc(), Notification.id.desc()).limit(limit))).scalars())


async def retry(s: AsyncSession, notification_id: int, *, now: datetime) -> bool:
    """Put a failed notification back in line with a fresh set of attempts."""
    query = update(Notification).where(Notification.id == notification_id, Notification.status == FAILED)
    result = await s.execute(query.values(status=PENDING, attempts=0, next_attempt_at=now, lease_until=None))
    s.info[WAKE_AFTER_COMMIT] = True
    return result.rowcount == 1


# ---------------------------------------------------------------- ticks


async def claim_tick(s: AsyncSession, job: str, tick: datetime, *, owner: str, now: datetime) -> bool:
    """True for the one process whose insert of (job, tick) lands; every other process skips this tick."""
    statement = insert_for(s)(JobRun).values(job=job, tick=tick, owner=owner, started_at=now)
    claimed = statement.on_conflict_do_nothing(index_elements=["job", "tick"]).returning(JobRun.id)
    return (await s.execute(claimed)).scalar_one_or_none() is not None


async def forget_runs_before(s: AsyncSession, moment: datetime) -> None:
    await s.execute(delete(JobRun).where(JobRun.started_at < moment))


async def latest_tick(s: AsyncSession, job: str) -> datetime | None:
    """The newest tick claimed of `job` (the worker's heartbeat), read from the unique (job, tick) index."""
    query = select(JobRun.tick).where(JobRun.job == job).order_by(JobRun.tick.desc()).limit(1)
    return (await s.execute(query)).scalar_one_or_none()


async def forget_ticks(s: AsyncSession, job: str, *, before: datetime | None = None, owner: str | None = None) -> None:
    """Forget ticks of `job`: those before a moment, or those one owner claimed (a worker that stops)."""
    query = delete(JobRun).where(JobRun.job == job)
    if before is not None:
        query = query.where(JobRun.tick < before)
    if owner is not None:
        query = query.where(JobRun.owner == owner)
    await s.execute(query)


# ---------------------------------------------------------------- calendar feeds


class CalendarFeed(SQLModel, table=True):
    """A private feed URL: a person's bookings, or (held by a member) an association's.

    `token` holds the sha256 of the URL's token, as credentials do: a copy of the database opens no one's feed.
    So the URL is shown only when it is made; a person who lost it makes a new one (the old one then stops).
    """

    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    association_id: int | None = Field(default=None, foreign_key="association.id")
    token: str = Field(max_length=64, unique=True, index=True)  # the token's sha256 in hex: exactly 64 characters
    created_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


# A feed's version starts from its owner's newest change to any booking (`facts.feed_version`): one seek in these,
# however long the owner's history. They serve the feeds alone, so they are declared here, beside the feeds' table.
FEED_CHANGE_INDEXES = tuple(
    Index(f"ix_booking_{owner}_changed", Booking.__table__.c[f"{owner}_id"], Booking.__table__.c.updated_at)
    for owner in ("person", "association", "resource")
)


def _owned_by(person_id: int, association_id: int | None) -> tuple[ColumnElement[bool], ...]:
    holder = CalendarFeed.association_id.is_(None) if association_id is None else CalendarFeed.association_id == association_id
    return (CalendarFeed.person_id == person_id, holder, CalendarFeed.revoked_at.is_(None))


async def live_feed(s: AsyncSession, token: str) -> CalendarFeed | None:
    query = select(CalendarFeed).where(CalendarFeed.token == hash_token(token), CalendarFeed.revoked_at.is_(None))
    return (await s.execute(query)).scalar_one_or_none()


async def feed_of(s: AsyncSession, person_id: int, association_id: int | None) -> CalendarFeed | None:
    query = select(CalendarFeed).where(*_owned_by(person_id, association_id)).order_by(CalendarFeed.id.desc()).limit(1)
    return (await s.execute(query)).scalar_one_or_none()


def add_feed(s: AsyncSession, person_id: int, association_id: int | None, *, now: datetime) -> str:
    """A new feed; returns its token, which only the URL shown now will ever hold."""
    token = secrets.token_urlsafe(32)
    s.add(CalendarFeed(person_id=person_id, association_id=association_id, token=hash_token(token), created_at=now))
    return token


async def revoke_feeds(s: AsyncSession, person_id: int, association_id: int | None, *, now: datetime) -> int:
    result = await s.execute(update(CalendarFeed).where(*_owned_by(person_id, association_id)).values(revoked_at=now))
    return result.rowcount
