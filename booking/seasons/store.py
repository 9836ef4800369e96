"""Tables and queries for seasons and their applications (renewals are applications that keep a bed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from booking.seasons.rules import ApplicationKind, NotAGardenSeason, Placement, adjusted, drawn
from booking.store import ACTIVE_VALUES, Booking
from booking.waitlists.store import WaitlistEntry, WaitlistOffer
from infra.database import UtcDateTime
from infra.errors import NotFound
from infra.rows import get_or_404
from infra.time import Interval
from resources.rules import ResourceKind
from resources.store import Resource


class Season(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(default=ResourceKind.GARDEN_BED.value, max_length=12)
    start: datetime = Field(sa_type=UtcDateTime)
    end: datetime = Field(sa_type=UtcDateTime)
    phase: str = Field(default="draft", max_length=12)
    previous_season_id: int | None = Field(default=None, foreign_key="season.id")
    district_postal_codes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    household_limit: int = 1
    offer_days: int = 7
    seed: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    draw_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # a garden season's draw, told residents beforehand
    # A room season's round: its rooms, the holiday weeks left out of the term, the cap and the application window.
    rooms: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    holidays: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    hours_cap: float | None = None
    applications_open: datetime | None = Field(default=None, sa_type=UtcDateTime)
    applications_close: datetime | None = Field(default=None, sa_type=UtcDateTime)
    renewal_share: float = Field(default=0.5, sa_column_kwargs={"server_default": "0.5"})

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


class SeasonApplication(SQLModel, table=True):
    """One household's application (kind "application") or a holder's renewal (kind "renewal") for a season."""

    __tablename__ = "season_application"
    # One application per household and season: the database refuses the second even when two race.
    __table_args__ = (UniqueConstraint("season_id", "household_key", "kind", name="uq_season_application_household"),)
    id: int | None = Field(default=None, primary_key=True)
    season_id: int = Field(foreign_key="season.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(default=ApplicationKind.APPLICATION.value, max_length=12)
    household_key: str = Field(max_length=200)
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=4)
    preferences: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # applied | invited | renewed | lapsed | allocated | waitlisted | accepted | declined | expired
    status: str = Field(max_length=12)
    tier: int = 0
    lottery_rank: int | None = None
    bed_id: int | None = Field(default=None, foreign_key="resource.id")
    reason: str = ""  # the audit text, for staff only: it names beds by id and carries staff notes
    outcome: str = Field(default="", max_length=24)  # rules.Outcome: what residents are told, in their language
    outcome_params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # tier, rank, bed_id
    adjusted_by: int | None = Field(default=None, foreign_key="person.id")
    adjust_reason: str = ""  # staff's note: stays internal
    message_to_resident: str = ""  # what staff chose to tell the resident of an adjustment
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)

    def redrawn(self, placed: Placement, *, now: datetime) -> None:
        """The draw's placement, afresh: an earlier draw's adjustments and messages go with it."""
        self.bed_id, self.lottery_rank, self.reason = placed.bed_id, placed.lottery_rank or None, placed.reason
        self.status, self.outcome, self.outcome_params = drawn(placed.bed_id).value, placed.outcome.value, placed.params
        self.adjusted_by, self.adjust_reason, self.message_to_resident, self.updated_at = None, "", "", now

    def adjust(self, bed_id: int | None, *, by: int, note: str, message: str, now: datetime) -> None:
        """Staff give another bed or none: the note joins the audit text, the resident is told the outcome and message."""
        self.bed_id, self.status, self.outcome = bed_id, drawn(bed_id).value, adjusted(bed_id).value
        self.outcome_params = {"tier": self.tier, "rank": self.lottery_rank, "bed_id": bed_id}
        self.adjusted_by, self.adjust_reason, self.message_to_resident, self.updated_at = by, note, message, now
        self.reason = f"{self.reason.split('; adjusted by staff:')[0]}; adjusted by staff: {note}"


async def get_season(s: AsyncSession, season_id: int, *, lock: bool = False) -> Season:
    return await get_or_404(s, Season, season_id, what="season", key="season_id", lock=lock)


async def garden_season(s: AsyncSession, season_id: int, *, lock: bool = True) -> Season:
    """A season of garden beds: a room season's applications and allocation have their own use cases."""
    season = await get_season(s, season_id, lock=lock)
    if season.kind != ResourceKind.GARDEN_BED.value:
        raise NotAGardenSeason(season_id=season_id)
    return season


async def applications_of(
    s: AsyncSession, season_id: int, *, kind: str | None = None, person_id: int | None = None
) -> list[SeasonApplication]:
    query = select(SeasonApplication).where(SeasonApplication.season_id == season_id)
    if kind is not None:
        query = query.where(SeasonApplication.kind == kind)
    if person_id is not None:
        query = query.where(SeasonApplication.person_id == person_id)
    return list((await s.execute(query.order_by(SeasonApplication.id))).scalars())


async def get_application(s: AsyncSession, season_id: int, application_id: int) -> SeasonApplication:
    row = await s.get(SeasonApplication, application_id)
    if row is None or row.season_id != season_id:
        raise NotFound(f"No application {application_id} in season {season_id}", application_id=application_id)
    return row


async def application_holding(s: AsyncSession, season_id: int, booking_id: int) -> SeasonApplication | None:
    """The season's application (or renewal) that the booking of a bed answered."""
    query = select(SeasonApplication).where(SeasonApplication.season_id == season_id, SeasonApplication.booking_id == booking_id)
    return (await s.execute(query.order_by(SeasonApplication.id))).scalars().first()


async def entry_holding(s: AsyncSession, season_id: int, booking_id: int) -> WaitlistEntry | None:
    """The place in the season's line whose offer became the booking of a bed (a bed taken mid-season)."""
    query = (
        select(WaitlistEntry)
        .join(WaitlistOffer, WaitlistOffer.entry_id == WaitlistEntry.id)
        .where(WaitlistEntry.season_id == season_id, WaitlistOffer.booking_id == booking_id)
    )
    return (await s.execute(query)).scalars().first()


async def beds(s: AsyncSession) -> list[Resource]:
    """Every garden bed still in use, in number order."""
    query = select(Resource).where(Resource.kind == ResourceKind.GARDEN_BED.value, Resource.retired_at.is_(None))
    return list((await s.execute(query.order_by(Resource.number, Resource.id))).scalars())


async def seasons_in_play(s: AsyncSession) -> list[Season]:
    """Seasons whose freed beds go to their waitlists: offers are out or the season runs."""
    query = select(Season).where(Season.kind == ResourceKind.GARDEN_BED.value, Season.phase.in_(("offers", "running")))
    return list((await s.execute(query)).scalars())


async def bed_holdings(s: AsyncSession, season: Season) -> list[Booking]:
    """Active bookings (held or offered) of garden beds over the season."""
    query = (
        select(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Resource.kind == ResourceKind.GARDEN_BED.value,
            Booking.status.in_(ACTIVE_VALUES),
            Booking.start < season.end,
            Booking.end > season.start,
        )
    )
    return list((await s.execute(query.order_by(Booking.id))).scalars())


async def household_persons(s: AsyncSession, season_id: int, household_key: str) -> set[int]:
    """Everyone who applied, renewed or waits for a bed in this season from the household."""
    applied = select(SeasonApplication.person_id).where(
        SeasonApplication.season_id == season_id, SeasonApplication.household_key == household_key
    )
    waiting = select(WaitlistEntry.person_id).where(WaitlistEntry.season_id == season_id, WaitlistEntry.household_key == household_key)
    return set((await s.execute(applied)).scalars()) | set((await s.execute(waiting)).scalars())


async def household_beds(s: AsyncSession, season: Season, household_key: str, *, excluding: int | None = None) -> int:
    """Beds the household holds or has been offered this season (`excluding` one offer being answered)."""
    persons = await household_persons(s, season.id, household_key)
    if not persons:
        return 0
    query = (
        select(func.count())
        .select_from(Booking)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Resource.kind == ResourceKind.GARDEN_BED.value,
            Booking.status.in_(ACTIVE_VALUES),
            Booking.person_id.in_(persons),
            Booking.start < season.end,
            Booking.end > season.start,
        )
    )
    if excluding is not None:
        query = query.where(Booking.id != excluding)
    return int((await s.execute(query)).scalar_one())
