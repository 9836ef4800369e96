"""The staff's daily digest: each staff member mailed once a day, in their language, the requests awaiting approval."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus
from booking.store import Booking
from infra import outbox
from infra.database import Db
from infra.time import OSLO
from people.roles import Duty, places_for
from people.store import Association, Person, StaffGrant, grants_of
from resources.store import Resource

KIND = "staff_digest"
FROM = time(7)  # Oslo time: the first sweep of the working day mails it, not the one at five past midnight
LISTED = 30  # requests a mail lists one by one; the rest are counted, and all are on the requests page
PATH = "/staff/requests"


def digest_day(now: datetime) -> date | None:
    """The Oslo day a digest recorded now belongs to, or None before the working day starts."""
    local = now.astimezone(OSLO)
    return local.date() if local.time() >= FROM else None


def digest_key(person_id: int, day: date) -> str:
    """One digest per staff member and day, however many sweeps (and processes) find requests waiting."""
    return f"{KIND}:{person_id}:{day.isoformat()}"


async def record_staff_digests(db: Db, *, now: datetime) -> int:
    """From 07:00, once per Oslo day, a digest for each staff member who decides requests, of those awaiting approval at
    their places (none when none do there: reporting and season managers decide none); a staff member added later that
    day gets theirs at the next sweep. Returns how many were recorded."""
    day = digest_day(now)
    if day is None:
        return 0
    async with db.write() as s:
        waiting = await requests_waiting(s)
        if not waiting:
            return 0
        added = 0
        staff = await grants_of(s, set((await s.execute(select(StaffGrant.person_id).distinct())).scalars()))
        for person_id in sorted(staff):
            places = places_for(staff[person_id], Duty.DECIDE)
            theirs = [request for location_id, request in waiting if places is None or location_id in places]
            if not theirs:
                continue
            details = {"path": PATH, "waiting": len(theirs), "requests": theirs[:LISTED]}
            added += await outbox.record_once(s, KIND, digest_key(person_id, day), person_id=person_id, booking_id=None, at=now, **details)
    return added


async def requests_waiting(s: AsyncSession) -> list[tuple[int, dict]]:
    """Every request awaiting approval, soonest first, with its location, as the digest tells it then: what, when, for
    whom, how many people, and who asked (a payload: the mail says it as of the sweep, like every outbox row)."""
    query = (
        select(Booking, Resource.location_id, Resource.name, Association.name, Person.name, Person.email)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Person, Person.id == Booking.person_id)
        .outerjoin(Association, Association.id == Booking.association_id)
        .where(Booking.status == BookingStatus.REQUESTED.value)
        .order_by(Booking.start, Booking.id)
    )
    return [
        (
            location_id,
            {
                "id": b.id,
                "resource": resource,
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
                "association": association or "",
                "asker": name or email,
                "attendees": b.attendees,
                "quantity": b.quantity,
            },
        )
        for b, location_id, resource, association, name, email in (await s.execute(query)).all()
    ]
