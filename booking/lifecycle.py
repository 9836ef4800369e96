"""Use cases after booking: move or shorten, cancel, approve and decline (the service layer of the lifecycle)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import rules, store
from booking.engine import (
    NewBooking,
    booker_for,
    check_free,
    check_may_act_on,
    check_policy_and_quota,
    is_overlap_violation,
)
from booking.rules import BookingStatus, ReasonRequired
from booking.store import Booking
from booking.waitlists import offers
from infra import outbox
from infra.database import Db
from people.actor import Actor, check_staff
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
) -> Booking:
    """Move or shorten a booking: the same rules as a new one apply, its own old slot excepted."""
    try:
        async with db.write() as s:
            booking = await store.get_booking(s, booking_id, for_update=True)
            check_may_act_on(actor, booking)
            resource = await store.locked_resource(s, booking.resource_id)
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
            if moved:
                booker = replace(booker_for(actor, booking.association_id), person_id=booking.person_id)
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
        check_may_act_on(actor, booking)
        policy = await catalogue.policy_of(s, await store.locked_resource(s, booking.resource_id))
        rules.check_cancellable(BookingStatus(booking.status), booking.start, policy, actor.is_staff, now=now)
        if actor.is_staff and booking.person_id != actor.person_id and not reason.strip():
            raise ReasonRequired("Staff cancelling someone's booking must say why")
        mark_cancelled(s, booking, actor, reason, now=now)
    await offers.offer_freed_capacity(db, booking.resource_id, now=now)  # after the commit, in its own transaction
    return booking


def mark_cancelled(s: AsyncSession, booking: Booking, actor: Actor, reason: str, *, now: datetime) -> None:
    """Cancelled bookings are kept with who, when and why; the booker hears of it."""
    booking.cancel(actor.person_id, reason, now=now)
    s.add(booking)
    outbox.record_booking_event(s, "booking_cancelled", booking, at=now, reason=reason.strip())


async def decide(db: Db, actor: Actor, booking_id: int, *, approve: bool, reason: str, now: datetime) -> Booking:
    """Staff approve a request (it already holds its slot) or decline it with a reason."""
    check_staff(actor)
    if not approve and not reason.strip():
        raise ReasonRequired("A decline must say why")
    async with db.write() as s:
        booking = await store.get_booking(s, booking_id, for_update=True)
        rules.check_decidable(BookingStatus(booking.status))
        booking.decide(approve=approve, by=actor.person_id, reason=reason, now=now)
        s.add(booking)
        kind = "booking_approved" if approve else "booking_declined"
        outbox.record_booking_event(s, kind, booking, at=now, reason=reason.strip())
    if not approve:
        await offers.offer_freed_capacity(db, booking.resource_id, now=now)
    return booking
