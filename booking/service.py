"""Use cases for bookings: book, look up, move, cancel, approve and decline — one transaction each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import rules, store
from booking.engine import (
    NewBooking,
    as_locked,
    book_in_one_statement,
    booker_for,
    check_may_see,
    check_policy,
    insert_if_free,
    is_overlap_violation,
    location_of,
    places_listed,
    resource_with_policy,
)
from booking.rules import IdempotencyKeyReused
from booking.store import Booking, IdempotencyRecord
from infra.database import Db
from people.actor import Actor, Duty, check_may, check_member, check_staff
from resources.store import Resource


async def replay(s: AsyncSession, actor: Actor, key: str, fingerprint: str) -> Booking | None:
    record = await store.idempotency_record(s, actor.person_id, key)
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key=key)
    return await store.get_booking(s, record.body["booking_id"])


async def create_booking(
    db: Db, actor: Actor, req: NewBooking, *, now: datetime, idempotency_key: str | None = None
) -> tuple[Booking, bool]:
    """Book an interval; answers (booking, replayed) so a retry with the same key books nothing new.

    The policy is read and checked before the write transaction, which then holds only what must be
    serialised: the quotas, the overlap or stock check, and the insert. On PostgreSQL the resource's row is
    locked and read afresh inside it.
    """
    fingerprint = req.fingerprint() if idempotency_key else ""
    if idempotency_key:
        async with db.read() as s:
            if earlier := await replay(s, actor, idempotency_key, fingerprint):
                return earlier, True
    resource, policy = await resource_with_policy(db, req.resource_id)
    booker = booker_for(actor, req.association_id, resource.location_id)
    check_policy(resource, policy, booker, req, now=now)

    async def check_and_insert(s: AsyncSession) -> tuple[Booking, bool]:
        fresh, rules_now = await as_locked(s, resource, policy)
        if fresh is not resource:
            check_policy(fresh, rules_now, booker, req, now=now)
        if idempotency_key and (earlier := await replay(s, actor, idempotency_key, fingerprint)):
            return earlier, True
        booking = await insert_if_free(s, fresh, rules_now, booker, req, now=now)
        if idempotency_key:
            s.add(
                IdempotencyRecord(
                    person_id=actor.person_id,
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    status_code=201,
                    body={"booking_id": booking.id},
                    created_at=now,
                )
            )
        return booking, False

    try:
        if not idempotency_key and (booked := await book_in_one_statement(db, resource, policy, booker, req, now=now)):
            return booked, False
        return await db.write_together(check_and_insert)
    except IntegrityError as exc:
        if is_overlap_violation(exc):
            raise rules.SlotTaken(resource_id=req.resource_id) from exc
        if idempotency_key:  # a concurrent twin with the same key won the insert: answer as it did
            async with db.read() as s:
                if earlier := await replay(s, actor, idempotency_key, fingerprint):
                    return earlier, True
        raise


async def get_booking(db: Db, actor: Actor, booking_id: int) -> Booking:
    async with db.read() as s:
        booking = await store.get_booking(s, booking_id)
        # Only staff need the place: anyone else sees a booking as its booker or a member of its association.
        location_id = await location_of(s, booking.resource_id) if actor.is_staff else None
    check_may_see(actor, booking, location_id)
    return booking


async def list_bookings(
    db: Db, actor: Actor, *, association_id: int | None = None, resource_id: int | None = None, status: str | None = None
) -> list[Booking]:
    """Mine by default; an association's for its members; a resource's for staff who read at its place; by status,
    for staff, those at the places they read."""
    query = select(Booking).order_by(Booking.start, Booking.id)
    if association_id is not None:
        check_member(actor, association_id)
        query = query.where(Booking.association_id == association_id)
    elif resource_id is not None or status is not None:
        check_staff(actor)  # deliberate: which places they read is asked below
        query = at_places(query, actor.places(Duty.READ))
    else:
        query = query.where(Booking.person_id == actor.person_id)
    if resource_id is not None:
        query = query.where(Booking.resource_id == resource_id)
    if status is not None:
        query = query.where(Booking.status == status)
    async with db.read() as s:
        if resource_id is not None and association_id is None:
            check_may(actor, Duty.READ, await location_of(s, resource_id))
        return list((await s.execute(query)).scalars())


async def awaiting_approval(db: Db, actor: Actor, *, location_id: int | None = None, all_places: bool = False) -> list[Booking]:
    """Requests awaiting a decision, soonest first: by default at the places the actor decides (see `places_listed`)."""
    places = places_listed(actor, Duty.DECIDE, location_id=location_id, all_places=all_places)
    query = select(Booking).where(Booking.status == rules.BookingStatus.REQUESTED.value).order_by(Booking.start, Booking.id)
    async with db.read() as s:
        return list((await s.execute(at_places(query, places))).scalars())


def at_places(query: Select, places: frozenset[int] | None) -> Select:
    """Bookings of resources at these places only (None: everywhere)."""
    if places is None:
        return query
    return query.where(Booking.resource_id.in_(select(Resource.id).where(Resource.location_id.in_(places))))
