"""Tables and queries for room seasons: associations' applications, their activities and ranked weekly wishes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from booking.seasons.room_draw import Decision
from booking.seasons.room_rules import Outcome, Slot, WishStatus
from booking.store import ACTIVE_VALUES, Booking
from infra.database import UtcDateTime
from infra.errors import NotFound
from resources.store import Resource


class RoomApplication(SQLModel, table=True):
    """One association's application for a room season, made and kept by its admins."""

    __tablename__ = "room_application"
    __table_args__ = (UniqueConstraint("season_id", "association_id", name="uq_room_application_association"),)
    id: int | None = Field(default=None, primary_key=True)
    season_id: int = Field(foreign_key="season.id", index=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    person_id: int = Field(foreign_key="person.id")  # the admin who applied: the result is mailed to them
    non_profit: bool = False
    postal_code: str = Field(default="", max_length=4)  # where the association is based
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class RoomActivity(SQLModel, table=True):
    """An activity of an application: who it is for, how many come, and the adult responsible (staff read the phone)."""

    __tablename__ = "room_activity"
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="room_application.id", index=True)
    name: str = Field(max_length=200)
    age_band: str = Field(max_length=10)
    participants: int
    under_20: int
    responsible_name: str = Field(max_length=200)
    responsible_phone: str = Field(max_length=40)


class RoomWish(SQLModel, table=True):
    """A ranked weekly wish and, once allocated, its outcome, slots, the series they became and their answer."""

    __tablename__ = "room_wish"
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="room_application.id", index=True)
    activity_id: int = Field(foreign_key="room_activity.id")
    rank: int
    room_id: int | None = Field(default=None, foreign_key="resource.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    min_seats: int = 0
    features: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minutes: int
    times: int = 1
    every_weeks: int = 1
    windows: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # {weekday, start, end, first_choice}
    renews_wish_id: int | None = Field(default=None, foreign_key="room_wish.id")
    status: str = Field(default=WishStatus.APPLIED.value, max_length=12)
    tier: int = 0
    priority: int | None = None
    round: int | None = None
    outcome: str = Field(default="", max_length=32)
    slots: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # the audit text: staff only
    adjusted_by: int | None = Field(default=None, foreign_key="person.id")
    adjust_reason: str = ""
    message: str = ""  # what staff chose to tell the association of an adjustment
    confirm_by: datetime | None = Field(default=None, sa_type=UtcDateTime)
    series_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)

    @property
    def granted_slots(self) -> list[Slot]:
        return [Slot(**s) for s in self.slots]

    def decided(self, decision: Decision, *, now: datetime) -> None:
        """The proposal's decision, afresh: an earlier run's adjustment goes with it."""
        granted = decision.outcome in Outcome.GRANTS
        self.status = (WishStatus.GRANTED if granted else WishStatus.REFUSED).value
        self.outcome, self.priority, self.round, self.reason = decision.outcome.value, decision.priority, decision.round, decision.reason
        self.slots = [slot_json(s) for s in decision.slots]
        self.adjusted_by, self.adjust_reason, self.message, self.updated_at = None, "", "", now

    def adjust(self, slots: list[Slot], *, by: int, note: str, message: str, now: datetime) -> None:
        """Staff move the wish to other times (or refuse it): the note joins the audit text."""
        self.status = (WishStatus.GRANTED if slots else WishStatus.REFUSED).value
        self.outcome = (Outcome.MOVED_BY_STAFF if slots else Outcome.REFUSED_BY_STAFF).value
        self.slots = [slot_json(s) for s in slots]
        self.adjusted_by, self.adjust_reason, self.message, self.updated_at = by, note, message, now
        self.reason = f"{self.reason.split('; adjusted by staff:')[0]}; adjusted by staff: {note}"

    def becomes(self, status: WishStatus, *, now: datetime) -> None:
        self.status, self.updated_at = status.value, now


def slot_json(slot: Slot) -> dict:
    return {
        "room": slot.room,
        "weekday": slot.weekday,
        "start": slot.start,
        "minutes": slot.minutes,
        "every_weeks": slot.every_weeks,
        "parity": slot.parity,
    }


async def applications_of(s: AsyncSession, season_id: int, *, associations: set[int] | None = None) -> list[RoomApplication]:
    query = select(RoomApplication).where(RoomApplication.season_id == season_id)
    if associations is not None:
        query = query.where(RoomApplication.association_id.in_(associations))
    return list((await s.execute(query.order_by(RoomApplication.id))).scalars())


async def application_of(s: AsyncSession, season_id: int, association_id: int, *, lock: bool = False) -> RoomApplication | None:
    query = select(RoomApplication).where(RoomApplication.season_id == season_id, RoomApplication.association_id == association_id)
    return (await s.execute(query.with_for_update() if lock else query)).scalars().first()


async def activities_of(s: AsyncSession, application_ids: list[int]) -> list[RoomActivity]:
    query = select(RoomActivity).where(RoomActivity.application_id.in_(application_ids)).order_by(RoomActivity.id)
    return list((await s.execute(query)).scalars())


async def wishes_of(s: AsyncSession, application_ids: list[int]) -> list[RoomWish]:
    query = select(RoomWish).where(RoomWish.application_id.in_(application_ids)).order_by(RoomWish.application_id, RoomWish.rank)
    return list((await s.execute(query)).scalars())


async def season_wishes(s: AsyncSession, season_id: int) -> list[tuple[RoomWish, RoomApplication]]:
    """Every wish of the season's applications still standing, with its application."""
    query = (
        select(RoomWish, RoomApplication)
        .join(RoomApplication, RoomApplication.id == RoomWish.application_id)
        .where(RoomApplication.season_id == season_id, RoomApplication.withdrawn_at.is_(None))
        .order_by(RoomWish.id)
    )
    return [(w, a) for w, a in (await s.execute(query)).all()]


async def get_wish(s: AsyncSession, season_id: int, wish_id: int) -> tuple[RoomWish, RoomApplication]:
    for wish, application in await season_wishes(s, season_id):
        if wish.id == wish_id:
            return wish, application
    raise NotFound(f"No wish {wish_id} in season {season_id}", wish_id=wish_id)


async def delete_wishes_and_activities(s: AsyncSession, application_id: int, *, keep: set[int]) -> None:
    """An edit replaces the application's activities and wishes, but for the renewals asked for (`keep`)."""
    kept_activities = set()
    for wish in await wishes_of(s, [application_id]):
        if wish.id in keep:
            kept_activities.add(wish.activity_id)
        else:
            await s.delete(wish)
    await s.flush()
    for activity in await activities_of(s, [application_id]):
        if activity.id not in kept_activities:
            await s.delete(activity)
    await s.flush()


async def rooms_of(s: AsyncSession, ids: list[int]) -> list[Resource]:
    if not ids:
        return []
    query = select(Resource).where(Resource.id.in_(ids), Resource.retired_at.is_(None)).order_by(Resource.id)
    return list((await s.execute(query)).scalars())


async def bookings_in(s: AsyncSession, room_ids: list[int], start: datetime, end: datetime) -> list[Booking]:
    """Active bookings of the rooms over the term: the times the round cannot hand out."""
    query = select(Booking).where(
        Booking.resource_id.in_(room_ids), Booking.status.in_(ACTIVE_VALUES), Booking.start < end, Booking.end > start
    )
    return list((await s.execute(query.order_by(Booking.id))).scalars())


async def series_bookings(s: AsyncSession, series_ids: list[int]) -> list[Booking]:
    if not series_ids:
        return []
    query = select(Booking).where(Booking.series_id.in_(series_ids)).order_by(Booking.start)
    return list((await s.execute(query)).scalars())
