"""Use cases for equipment loans: kits borrowed whole, hand-over at the counter, overdue loans."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booking import store
from booking.engine import (
    NewBooking,
    booker_for,
    check_free,
    check_policy_and_quota,
    location_of,
    new_row,
    places_listed,
)
from booking.loans import rules as loan_rules
from booking.loans import store as loan_store
from booking.rules import BookingStatus
from booking.store import Booking
from booking.waitlists import offers
from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from infra.errors import DomainError
from infra.time import MIDNIGHT, Interval, as_utc, local_datetime
from people.actor import Actor, Duty, check_may
from resources import store as catalogue


async def create_kit_loan(
    db: Db, actor: Actor, kit_id: int, start: datetime, end: datetime, *, association_id: int | None, title: str, now: datetime
) -> list[Booking]:
    """Borrow every item of a kit for one interval, or nothing at all."""
    kit_loan_id = str(uuid.uuid4())
    async with db.write() as s:
        kit, items = await catalogue.kit_with_items(s, kit_id)
        booker = booker_for(actor, association_id, kit.location_id)
        loans = []
        for item in items:  # locked in resource order, so two kit loans never wait on each other in a circle
            resource = await store.locked_resource(s, item.resource_id)
            policy = await catalogue.policy_of(s, resource)
            wanted = NewBooking(resource.id, start, end, title or kit.name, association_id, None, item.quantity)
            try:
                await check_policy_and_quota(s, resource, policy, booker, wanted, now=now, adds_one=not loans)
                block = await check_free(s, resource, policy, wanted)
            except DomainError as refusal:
                refusal.extra.setdefault("resource_id", resource.id)  # which part of the kit stood in the way
                raise
            row = new_row(resource, policy, booker, wanted, block, now=now, kit_loan_id=kit_loan_id)
            s.add(row)
            await s.flush()
            loans.append(row)
        outbox.record_booking_event(s, "kit_loan_confirmed", loans[0], at=now, kit_loan_id=kit_loan_id, kit=kit.name)
        return loans


async def check_out(db: Db, actor: Actor, booking_id: int, *, at: datetime | None, note: str, now: datetime) -> Booking:
    """Staff of the loan's place hand a confirmed loan over at the counter, noting the time and the condition."""
    async with db.write() as s:
        loan = await loan_store.loan_for_handover(s, booking_id)
        location_id = await location_of(s, loan.resource_id)
        check_may(actor, Duty.HAND_OVER, location_id)
        loan_rules.check_ready_for_check_out(BookingStatus(loan.status))
        before = {"status": loan.status}
        loan.hand_over(actor.person_id, note, at=at or now, now=now)
        s.add(loan)
        outbox.record_booking_event(s, "loan_checked_out", loan, at=now)
        after = {"status": loan.status, "at": as_utc(at or now), "note": note.strip(), "quantity": loan.quantity}
        _record(s, Action.LOAN_HANDED_OUT, actor, loan, location_id, before=before, after=after, now=now)
        return loan


async def check_in(
    db: Db,
    actor: Actor,
    booking_id: int,
    *,
    at: datetime | None,
    condition: str,
    note: str,
    missing_units: int,
    to_maintenance: bool = False,
    now: datetime,
) -> Booking:
    """Staff of the loan's place take it back (an overdue one too): its units are free again; missing units leave the
    stock, and an item sent to maintenance takes no new loans, both in the same transaction as the return."""
    async with db.write() as s:
        loan = await loan_store.loan_for_handover(s, booking_id)
        location_id = await location_of(s, loan.resource_id)
        check_may(actor, Duty.HAND_OVER, location_id)
        loan_rules.check_ready_for_check_in(BookingStatus(loan.status), loan.quantity, missing_units)
        before = {"status": loan.status, "end": as_utc(loan.end)}  # "overdue": taken back late
        loan.take_back(actor.person_id, condition, note, missing_units, at=at or now, now=now)
        s.add(loan)
        await _item_after_return(s, loan.resource_id, missing_units=missing_units, to_maintenance=to_maintenance, now=now)
        outbox.record_booking_event(s, "loan_returned", loan, at=now, missing_units=missing_units, condition=condition)
        after = {
            "status": loan.status,
            "at": as_utc(at or now),
            "condition": condition,
            "note": note.strip(),
            "missing_units": missing_units,
        }
        after["to_maintenance"] = to_maintenance
        _record(s, Action.LOAN_RETURNED, actor, loan, location_id, before=before, after=after, now=now)
    if (at or now) < loan.end:  # an early return frees units someone may be waiting for
        await offers.offer_freed_capacity(db, loan.resource_id, now=now)
    return loan


def _record(
    s: AsyncSession, action: Action, actor: Actor, loan: Booking, location_id: int, *, before: dict, after: dict, now: datetime
) -> None:
    """A hand-over in the audit trail: the borrower its subject, the note as staff wrote it."""
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=loan.id, location_id=location_id, subject_id=loan.person_id,
        before=before, after=after,
    )  # fmt: skip


async def _item_after_return(s: AsyncSession, resource_id: int, *, missing_units: int, to_maintenance: bool, now: datetime) -> None:
    """Missing units leave the item's stock; an item sent to maintenance takes no new loans until staff clear it."""
    if not (missing_units or to_maintenance):
        return
    resource = await store.locked_resource(s, resource_id)
    resource.stock = max((resource.stock or 0) - missing_units, 0)
    resource.in_maintenance = resource.in_maintenance or to_maintenance
    resource.updated_at = now
    s.add(resource)


async def mark_overdue(db: Db, *, now: datetime) -> list[Booking]:
    """Loans handed out and not back by their return time become overdue; the borrower hears of it once, for a kit
    once for all its items (its mail lists them)."""
    async with db.write() as s:
        late = await loan_store.checked_out_past_return(s, now=now)
        told: set[str] = set()
        for loan in late:
            loan.fall_overdue(now=now)
            s.add(loan)
            if loan.kit_loan_id is None or loan.kit_loan_id not in told:
                outbox.record_booking_event(s, "loan_overdue", loan, at=now)
            if loan.kit_loan_id is not None:
                told.add(loan.kit_loan_id)
        return late


async def overdue_loans(db: Db, actor: Actor, *, now: datetime, location_id: int | None = None, all_places: bool = False) -> list[Booking]:
    """What staff must chase: every loan handed out and past its return time, by default at their own places."""
    places = places_listed(actor, Duty.HAND_OVER, location_id=location_id, all_places=all_places)
    async with db.read() as s:
        return await loan_store.out_past_return(s, now=now, places=places)


async def handovers_on(
    db: Db, actor: Actor, day: date, *, location_id: int | None = None, all_places: bool = False
) -> tuple[list[Booking], list[Booking]]:
    """The day's pickups (confirmed loans starting that local day) and returns (handed out, due that day), by default
    at the actor's own places."""
    places = places_listed(actor, Duty.HAND_OVER, location_id=location_id, all_places=all_places)
    span = Interval(local_datetime(day, MIDNIGHT), local_datetime(day + timedelta(days=1), MIDNIGHT))
    async with db.read() as s:
        return await loan_store.handovers_in(s, span, places=places)
