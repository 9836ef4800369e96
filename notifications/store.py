"""The outbox: one row per thing a person should hear about, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from config.database import UtcDateTime


class Notification(SQLModel, table=True):
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # e.g. booking_confirmed, booking_cancelled
    person_id: int = Field(foreign_key="person.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = 0
    created_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str = ""


def record(s: AsyncSession, kind: str, *, person_id: int, at: datetime, booking_id: int | None = None, **payload: Any) -> Notification:
    """Add an event to the outbox inside the caller's transaction; it is sent only once that commits."""
    row = Notification(
        kind=kind, person_id=person_id, booking_id=booking_id, payload=payload, created_at=at, next_attempt_at=at
    )
    s.add(row)
    return row


def record_booking_event(s: AsyncSession, kind: str, booking: Any, *, at: datetime, **details: Any) -> Notification:
    """An event about a booking, carrying the sequence and status it had, so its invitation is built as of then."""
    return record(s, kind, person_id=booking.person_id, booking_id=booking.id, at=at, sequence=booking.sequence, status=booking.status, **details)
