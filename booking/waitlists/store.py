"""Tables and queries for waitlist entries; an entry's open offer is a booking row in status `offered`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ColumnElement, Index, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from booking.waitlists.rules import EntryStatus, OfferOutcome, WaitKind
from infra.database import UtcDateTime
from infra.errors import NotFound
from infra.rows import get_or_404, locked


class WaitlistEntry(SQLModel, table=True):
    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index("ix_waitlist_entry_line", "resource_id", "status"),
        Index("ix_waitlist_entry_season_line", "season_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)
    # A room or an item; None for "any bed of the season" (preferences then say which suit).
    resource_id: int | None = Field(default=None, foreign_key="resource.id")
    season_id: int | None = Field(default=None, foreign_key="season.id")
    start: datetime = Field(sa_type=UtcDateTime)
    end: datetime = Field(sa_type=UtcDateTime)
    quantity: int = 1
    person_id: int = Field(foreign_key="person.id", index=True)
    association_id: int | None = Field(default=None, foreign_key="association.id")
    household_key: str = Field(default="", max_length=200)
    preferences: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    tier: int = 0
    position: int = 0
    status: str = Field(default=EntryStatus.WAITING.value, max_length=10)
    declines: int = 0
    joined_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    moved_by: int | None = Field(default=None, foreign_key="person.id")
    move_reason: str = ""

    def becomes(self, status: EntryStatus, *, now: datetime) -> None:
        self.status, self.updated_at = status.value, now


class WaitlistOffer(SQLModel, table=True):
    """An offer made to an entry: the held booking, its deadline, and how it was answered."""

    __tablename__ = "waitlist_offer"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="waitlist_entry.id", index=True)
    booking_id: int = Field(foreign_key="booking.id", unique=True)
    deadline: datetime = Field(sa_type=UtcDateTime, index=True)
    made_at: datetime = Field(sa_type=UtcDateTime)
    outcome: str = Field(default=OfferOutcome.OPEN.value, max_length=10)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    def answer(self, outcome: OfferOutcome, *, now: datetime) -> None:
        self.outcome, self.answered_at = outcome.value, now


def _same_line(entry: WaitlistEntry) -> ColumnElement[bool]:
    if entry.kind == WaitKind.GARDEN_BED.value:
        return WaitlistEntry.season_id == entry.season_id
    return WaitlistEntry.resource_id == entry.resource_id


def ordered(query: Select) -> Select:
    return query.order_by(WaitlistEntry.tier, WaitlistEntry.position, WaitlistEntry.id)


async def get_entry(s: AsyncSession, entry_id: int) -> WaitlistEntry:
    return await get_or_404(s, WaitlistEntry, entry_id, what="waitlist entry", key="entry_id", lock=True)


async def still_waiting(s: AsyncSession, entry_id: int) -> bool:
    """Lock the entry (PostgreSQL) and read its status afresh: two beds freed at once never both go to one entry."""
    query = locked(s, select(WaitlistEntry.status).where(WaitlistEntry.id == entry_id))
    return (await s.execute(query)).scalar_one() == EntryStatus.WAITING.value


async def offer_holding(s: AsyncSession, booking_id: int, *, lock: bool = False) -> WaitlistOffer | None:
    """The offer that holds this booking, if one does (locked until COMMIT on PostgreSQL when asked)."""
    query = locked(s, select(WaitlistOffer).where(WaitlistOffer.booking_id == booking_id), lock=lock)
    return (await s.execute(query)).scalar_one_or_none()


async def offer_of(s: AsyncSession, booking_id: int) -> tuple[WaitlistOffer, WaitlistEntry]:
    """The offer that holds this booking, and the entry it was made to."""
    offer = await offer_holding(s, booking_id)
    if offer is None:
        raise NotFound(f"No offer {booking_id}", offer_id=booking_id)
    return offer, await get_entry(s, offer.entry_id)


async def open_offer_of(s: AsyncSession, entry_id: int) -> WaitlistOffer | None:
    query = select(WaitlistOffer).where(WaitlistOffer.entry_id == entry_id, WaitlistOffer.outcome == OfferOutcome.OPEN.value)
    return (await s.execute(query)).scalar_one_or_none()


async def line_of(
    s: AsyncSession, entry: WaitlistEntry, *, statuses: tuple[str, ...] = (EntryStatus.WAITING.value,)
) -> list[WaitlistEntry]:
    """The entries sharing this entry's line, first in line first."""
    query = select(WaitlistEntry).where(_same_line(entry), WaitlistEntry.status.in_(statuses))
    return list((await s.execute(ordered(query))).scalars())


async def back_of_line(s: AsyncSession, entry: WaitlistEntry) -> int:
    query = select(func.max(WaitlistEntry.position)).where(_same_line(entry))
    return int((await s.execute(query)).scalar_one() or 0) + 1


async def waiting_for(s: AsyncSession, resource_id: int, season_ids: list[int]) -> list[WaitlistEntry]:
    """Waiting entries that freed capacity of this resource could serve: its own line, or its seasons' lines."""
    matches = [WaitlistEntry.resource_id == resource_id]
    if season_ids:
        matches.append(WaitlistEntry.season_id.in_(season_ids))
    query = select(WaitlistEntry).where(WaitlistEntry.status == EntryStatus.WAITING.value, or_(*matches))
    return list((await s.execute(ordered(query))).scalars())


async def due_offers(s: AsyncSession, *, now: datetime) -> list[WaitlistOffer]:
    query = select(WaitlistOffer).where(WaitlistOffer.outcome == OfferOutcome.OPEN.value, WaitlistOffer.deadline < now)
    return list((await s.execute(query.order_by(WaitlistOffer.deadline, WaitlistOffer.id))).scalars())


async def open_offers_of(s: AsyncSession, person_id: int) -> list[WaitlistOffer]:
    query = (
        select(WaitlistOffer)
        .join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
        .where(WaitlistEntry.person_id == person_id, WaitlistOffer.outcome == OfferOutcome.OPEN.value)
    )
    return list((await s.execute(query.order_by(WaitlistOffer.deadline))).scalars())


async def lines_waiting(s: AsyncSession) -> tuple[list[int], list[int]]:
    """Resources and seasons with someone waiting: the sweep checks them for capacity a missed hook freed."""
    waiting = WaitlistEntry.status == EntryStatus.WAITING.value
    resources = (
        await s.execute(select(WaitlistEntry.resource_id).where(waiting, WaitlistEntry.resource_id.is_not(None)).distinct())
    ).scalars()
    seasons = (await s.execute(select(WaitlistEntry.season_id).where(waiting, WaitlistEntry.season_id.is_not(None)).distinct())).scalars()
    return list(resources), list(seasons)


async def entries_of(
    s: AsyncSession, *, person_id: int | None = None, resource_id: int | None = None, season_id: int | None = None
) -> list[WaitlistEntry]:
    query = select(WaitlistEntry)
    if person_id is not None:
        query = query.where(WaitlistEntry.person_id == person_id)
    if resource_id is not None:
        query = query.where(WaitlistEntry.resource_id == resource_id)
    if season_id is not None:
        query = query.where(WaitlistEntry.season_id == season_id)
    return list((await s.execute(ordered(query))).scalars())
