"""The audit trail's writer: one append-only row per staff or admin action and per decision that affects someone.

Rows name people by id only (never their name or address), so an erased person stays a pseudonym here and the
rows never need changing; the database refuses UPDATE and DELETE of them (triggers on both backends)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from infra.database import UtcDateTime, insert_at_commit


class Action(StrEnum):
    """What was done, as `object.verb` (the object's kind is the part before the dot)."""

    BOOKING_APPROVED = "booking.approved"
    BOOKING_DECLINED = "booking.declined"
    BOOKING_CANCELLED = "booking.cancelled"  # by staff or an admin for someone else
    BOOKING_MOVED = "booking.moved"
    SERIES_CANCELLED = "series.cancelled"
    LOAN_HANDED_OUT = "loan.handed_out"
    LOAN_RETURNED = "loan.returned"
    WAITLIST_MOVED = "waitlist.moved"
    WAITLIST_REMOVED = "waitlist.removed"
    ALLOCATION_ADJUSTED = "allocation.adjusted"
    ALLOCATION_PUBLISHED = "allocation.published"
    SEASON_CREATED = "season.created"
    SEASON_PHASE = "season.phase"
    POLICY_CHANGED = "policy.changed"
    RESOURCE_CHANGED = "resource.changed"
    RESOURCE_CREATED = "resource.created"
    RESOURCE_RETIRED = "resource.retired"
    STOCK_CHANGED = "stock.changed"
    KIT_CREATED = "kit.created"
    KIT_CHANGED = "kit.changed"
    CLOSURE_ADDED = "closure.added"
    CLOSURE_REMOVED = "closure.removed"
    LOCATION_CLOSED = "location.closed"  # every resource of a place closed at once
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    MEMBERSHIP_GRANTED = "membership.granted"
    MEMBERSHIP_CHANGED = "membership.changed"
    MEMBERSHIP_REMOVED = "membership.removed"
    ASSOCIATION_CREATED = "association.created"
    PERSON_ADDED = "person.added"
    TOKEN_REVOKED = "token.revoked"
    DATA_EXPORTED = "person.exported"
    PERSON_ERASED = "person.erased"
    PERSON_WARNED = "person.warned"  # an inactive account warned by mail that it will be erased
    RETENTION_RUN = "retention.run"

    @property
    def object_kind(self) -> str:
        return self.value.split(".", 1)[0]


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_object", "object_kind", "object_id"),
        Index("ix_audit_entry_actor", "actor_id"),
        Index("ix_audit_entry_subject", "subject_id"),
        Index("ix_audit_entry_location", "location_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor_id: int | None = None  # a person id, kept when they are erased (then a pseudonym); None: the system itself
    action: str = Field(max_length=40)
    object_kind: str = Field(max_length=20)
    object_id: int | None = None
    location_id: int | None = None
    subject_id: int | None = None  # the person the decision affects, if one does
    reason: str = Field(default="", max_length=2000)
    before: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def record(
    s: AsyncSession,
    action: Action,
    *,
    actor_id: int | None,
    at: datetime,
    object_id: int | None = None,
    location_id: int | None = None,
    subject_id: int | None = None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add an entry inside the caller's transaction: it exists exactly when what it records was committed."""
    row = {
        "at": at,
        "actor_id": actor_id,
        "action": action.value,
        "object_kind": action.object_kind,
        "object_id": object_id,
        "location_id": location_id,
        "subject_id": subject_id,
        "reason": reason[:2000],
        "before": jsonable(before or {}),
        "after": jsonable(after or {}),
    }
    insert_at_commit(s, AuditEntry.__table__, row)
    return row


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON keeps them: times as ISO text, sets as sorted lists, enums as their values."""
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return jsonable(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
