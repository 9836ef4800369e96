"""The outbox writer: one row per thing a person should hear about, queued in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from infra.database import WAKE_AFTER_COMMIT, UtcDateTime, insert_at_commit
from infra.rows import insert_for


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waits for the drain (or for its retry)
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts: staff may retry it


class Notification(SQLModel, table=True):
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_dedupe_key", "dedupe_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # e.g. booking_confirmed, booking_cancelled
    person_id: int = Field(foreign_key="person.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=10)
    attempts: int = 0
    created_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lease_owner: str = Field(default="", max_length=80)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str = ""
    # Set on events a sweep finds (reminders): recording the same one twice is then a no-op.
    dedupe_key: str | None = Field(default=None, max_length=120)


PENDING, SENT, FAILED = OutboxStatus.PENDING.value, OutboxStatus.SENT.value, OutboxStatus.FAILED.value


# Every column a new outbox row needs besides its event: the model's defaults, read once.
NEW_ROW = {
    name: f.get_default(call_default_factory=True) for name, f in Notification.model_fields.items() if name != "id" and not f.is_required()
}


def record(s: AsyncSession, kind: str, *, person_id: int, at: datetime, booking_id: int | None = None, **payload: Any) -> dict[str, Any]:
    """Add an event to the outbox inside the caller's transaction; it is sent only once that commits.

    The row is inserted at COMMIT with the rest of the transaction's events (nothing reads the outbox before)."""
    row = {
        **NEW_ROW,
        "kind": kind,
        "person_id": person_id,
        "booking_id": booking_id,
        "payload": payload,
        "created_at": at,
        "next_attempt_at": at,
    }
    insert_at_commit(s, Notification.__table__, row)
    s.info[WAKE_AFTER_COMMIT] = True
    return row


def as_of(booking: Any) -> dict[str, Any]:
    """What a booking was when the event happened, so its mail and invitation tell it as of then, not as of sending."""
    return {
        "sequence": booking.sequence,
        "status": booking.status,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "title": booking.title,
    }


def record_booking_event(s: AsyncSession, kind: str, booking: Any, *, at: datetime, **details: Any) -> dict[str, Any]:
    """An event about a booking, carrying the sequence and status it had, so its invitation is built as of then."""
    return record(s, kind, person_id=booking.person_id, booking_id=booking.id, at=at, **as_of(booking), **details)


async def record_once(
    s: AsyncSession, kind: str, key: str, *, person_id: int, booking_id: int | None, at: datetime, **payload: Any
) -> bool:
    """Record an event a sweep found, unless one with this key was recorded before; True when it is new."""
    values = dict(
        kind=kind,
        person_id=person_id,
        booking_id=booking_id,
        payload=payload,
        status=PENDING,
        attempts=0,
        created_at=at,
        next_attempt_at=at,
        lease_owner="",
        last_error="",
        dedupe_key=key,
    )
    statement = insert_for(s)(Notification).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    added = (await s.execute(statement.returning(Notification.id))).scalar_one_or_none() is not None
    if added:
        s.info[WAKE_AFTER_COMMIT] = True
    return added
