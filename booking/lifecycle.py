"""Use cases after booking: move or shorten, cancel, approve and decline (the service layer of the lifecycle)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import rules, store
from booking.engine import (
    NewBooking,
    acts_for_someone_else,
    booker_for,
    check_free,
    check_may_act_on,
    check_policy_and_quota,
    is_overlap_violation,
    location_of,
)
from booking.rules import BookingStatus, ReasonRequired
from booking.store import Booking
from booking.waitlists import offers
from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from infra.time import as_utc
from people.actor import Actor, Duty, check_may, check_staff
from resources import store as catalogue
from resources.rules import BookerKind


async def change_booking(
    db: Db,
    actor: Actor,
    booking_id: int,
    *,
    start: datetime | None,
    end: datetime | None,
    title: str | None,
    attendees: int | None,
    now: datetime,
    reason: str = "",
) -> Booking:
    """Move or shorten a booking: the same rules as a new one apply, its own old slot excepted. Someone moving another's
    booking (staff, the association's admin) is recorded in the audit trail, with the reason if they gave one."""
    try:
        async with db.write() as s:
            booking = await store.get_booking(s, booking_id, for_update=True)
            resource = await store.locked_resource(s, booking.resource_id)
            check_may_act_on(actor, booking, resource.location_id)
            rules.check_changeable(BookingStatus(booking.status))
            policy = await catalogue.policy_of(s, resource)
            wanted = NewBooking(
                resource.id,
                start or booking.start,
                end or booking.end,
                title if title is not None else booking.title,
                booking.association_id,
                attendees if attendees is not None else booking.attendees,
                booking.quantity,
            )
            moved = (wanted.start, wanted.end) != (booking.start, booking.end)
            before = where_it_is(booking)
            if moved:
                booker = replace(booker_for(actor, booking.association_id, resource.location_id), person_id=booking.person_id)
                await check_policy_and_quota(s, resource, policy, booker, wanted, now=now, excluding=booking.id, adds_one=False)
                block = await check_free(s, resource, policy, wanted, excluding=booking.id)
                # A moved booking that needs approval needs a new decision.
                booking.move(
                    wanted.start, wanted.end, block, needs_new_decision=policy.needs_approval and booker.kind is not BookerKind.STAFF
                )
            elif wanted.attendees is not None:
                rules.check_capacity(resource.capacity, wanted.attendees)
            booking.title, booking.attendees = wanted.title, wanted.attendees
            booking.changed(now)
            outbox.record_booking_event(s, "booking_changed", booking, at=now, moved=moved)
            if moved and acts_for_someone_else(actor, booking):
                record(s, Action.BOOKING_MOVED, actor, booking, resource.location_id, reason, before=before, now=now)
            s.add(booking)
    except IntegrityError as exc:
        if is_overlap_violation(exc):
            raise rules.SlotTaken(booking_id=booking_id) from exc
        raise
    if moved:  # the old slot (or the end cut off) may be what someone waits for
        await offers.offer_freed_capacity(db, booking.resource_id, now=now)
    return booking


async def cancel_booking(db: Db, actor: Actor, booking_id: int, reason: str, *, now: datetime) -> Booking:
    """The booker cancels before the deadline; staff may cancel at any time, with a reason."""
    async with db.write() as s:
        booking = await store.get_booking(s, booking_id, for_update=True)
        resource = await store.locked_resource(s, booking.resource_id)
        check_may_act_on(actor, booking, resource.location_id)
        decides_here = actor.may(Duty.DECIDE, resource.location_id)
        policy = await catalogue.policy_of(s, resource)
        rules.check_cancellable(BookingStatus(booking.status), booking.start, policy, decides_here, now=now)
        if decides_here and acts_for_someone_else(actor, booking) and not reason.strip():
            raise ReasonRequired("Staff cancelling someone's booking must say why")
        before = {"status": booking.status}
        mark_cancelled(s, booking, actor, reason, now=now)
        if acts_for_someone_else(actor, booking):
            record(s, Action.BOOKING_CANCELLED, actor, booking, resource.location_id, reason, before=before, now=now)
    await offers.offer_freed_capacity(db, booking.resource_id, now=now)  # after the commit, in its own transaction
    return booking


def mark_cancelled(s: AsyncSession, booking: Booking, actor: Actor, reason: str, *, now: datetime) -> None:
    """Cancelled bookings are kept with who, when and why; the booker hears of it."""
    booking.cancel(actor.person_id, reason, now=now)
    s.add(booking)
    outbox.record_booking_event(s, "booking_cancelled", booking, at=now, reason=reason.strip())


async def decide(db: Db, actor: Actor, booking_id: int, *, approve: bool, reason: str, now: datetime) -> Booking:
    """Staff who decide at the booking's place approve a request (it already holds its slot) or decline it with a reason."""
    check_staff(actor)  # deliberate: a resident is told so before the reason is asked for; the place is checked below
    if not approve and not reason.strip():
        raise ReasonRequired("A decline must say why")
    async with db.write() as s:
        booking = await store.get_booking(s, booking_id, for_update=True)
        location_id = await location_of(s, booking.resource_id)
        check_may(actor, Duty.DECIDE, location_id)
        rules.check_decidable(BookingStatus(booking.status))
        before = {"status": booking.status}
        booking.decide(approve=approve, by=actor.person_id, reason=reason, now=now)
        s.add(booking)
        kind = "booking_approved" if approve else "booking_declined"
        outbox.record_booking_event(s, kind, booking, at=now, reason=reason.strip())
        action = Action.BOOKING_APPROVED if approve else Action.BOOKING_DECLINED
        record(s, action, actor, booking, location_id, reason, before=before, now=now)
    if not approve:
        await offers.offer_freed_capacity(db, booking.resource_id, now=now)
    return booking


def where_it_is(booking: Booking) -> dict:
    """What a move changes, as the audit trail keeps it."""
    return {"resource_id": booking.resource_id, "start": as_utc(booking.start), "end": as_utc(booking.end), "status": booking.status}


def record(
    s: AsyncSession, action: Action, actor: Actor, booking: Booking, location_id: int, reason: str, *, before: dict, now: datetime
) -> None:
    """An audit entry for something done to one booking: its booker the subject; after, its state now."""
    after = where_it_is(booking) if action is Action.BOOKING_MOVED else {"status": booking.status}
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=booking.id, location_id=location_id, subject_id=booking.person_id,
        reason=reason.strip(), before=before, after=after,
    )  # fmt: skip
