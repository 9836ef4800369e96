"""The engine's check-and-insert core: who books, the policy and quota checks, the overlap or stock check and the insert."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import inserts, pooled_rules, rules, store
from booking.rules import Booker, BookingRequest, BookingStatus, ResourceRetired
from booking.store import Booking
from infra import outbox
from infra.database import Db
from infra.errors import Forbidden, NotFound
from infra.time import Interval, local_week_of
from people.actor import Actor, Duty, check_may, check_member, check_staff, may_see
from resources import store as catalogue
from resources.rules import EXCLUSIVE_KINDS, BookerKind, Policy, ResourceKind
from resources.store import Resource

EXCLUSION_CONSTRAINT = "booking_no_overlap"


@dataclass(frozen=True)
class NewBooking:
    resource_id: int
    start: datetime
    end: datetime
    title: str = ""
    association_id: int | None = None
    attendees: int | None = None
    quantity: int = 1

    def fingerprint(self) -> str:
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def booker_for(actor: Actor, association_id: int | None, location_id: int | None) -> Booker:
    """Staff who decide at the resource's place book as staff (no approval, the staff's rules); a member books for
    their association; anyone else, staff of other places and roles that only read among them, as a resident."""
    if association_id is not None:
        check_member(actor, association_id)
    if books_as_staff(actor, location_id):
        kind = BookerKind.STAFF
    else:
        kind = BookerKind.ASSOCIATION if association_id is not None else BookerKind.RESIDENT
    return Booker(person_id=actor.person_id, kind=kind, association_id=association_id)


async def check_policy_and_quota(
    s: AsyncSession,
    resource: Resource,
    policy: Policy,
    booker: Booker,
    req: NewBooking,
    *,
    now: datetime,
    excluding: int | None = None,
    adds_one: bool = True,
) -> None:
    """Every rule of the resource's policy, then the booker's quota, for one wanted interval.

    `excluding` is a booking being moved (its own hours do not count); `adds_one` is False when the
    request adds nothing to a count of bookings or loans (a move, or the second item of one kit loan).
    """
    check_policy(resource, policy, booker, req, now=now)
    await check_quota(s, resource, policy, booker, req, now=now, excluding=excluding, adds_one=adds_one)


def check_policy(resource: Resource, policy: Policy, booker: Booker, req: NewBooking, *, now: datetime) -> None:
    """What the resource's policy says of this request alone: no other booking needs to be read."""
    if resource.retired_at is not None:
        raise ResourceRetired(resource_id=resource.id)
    request = BookingRequest(ResourceKind(resource.kind), req.start, req.end, req.attendees, req.quantity)
    if request.resource_kind is ResourceKind.EQUIPMENT:
        pooled_rules.check_not_in_maintenance(resource.in_maintenance)
        pooled_rules.check_loan(policy, booker, request, now=now)
    else:
        rules.check_booking(policy, booker, request, capacity=resource.capacity, now=now)


async def check_quota(
    s: AsyncSession,
    resource: Resource,
    policy: Policy,
    booker: Booker,
    req: NewBooking,
    *,
    now: datetime,
    excluding: int | None,
    adds_one: bool,
) -> None:
    """The booker's quotas, read inside the write transaction so two requests cannot both take the last hour."""
    if resource.kind == ResourceKind.EQUIPMENT.value:
        await check_borrower(s, policy, booker, now=now, adds_one=adds_one)
        return
    if booker.kind is BookerKind.ASSOCIATION and policy.association_hours_per_week is not None:
        week = local_week_of(req.start)
        booked = await store.hours_booked_by_association(s, booker.association_id, resource.id, week, excluding=excluding)
        rules.check_association_quota(policy, booked, (req.end - req.start).total_seconds() / 3600)
    if booker.kind is BookerKind.RESIDENT and policy.max_active_bookings_per_person is not None and adds_one:
        rules.check_person_quota(policy, await store.active_count_of_person(s, booker.person_id, resource.id, after=now))


async def check_borrower(s: AsyncSession, policy: Policy, booker: Booker, *, now: datetime, adds_one: bool) -> None:
    """A borrower with nothing overdue and loans to spare (staff lend freely)."""
    if booker.kind is BookerKind.STAFF:
        return
    quota_applies = adds_one and policy.max_active_loans is not None
    overdue, running = await store.borrower_standing(s, booker.person_id, booker.association_id, now=now, with_running=quota_applies)
    pooled_rules.check_borrower_not_overdue(overdue)
    if quota_applies:
        pooled_rules.check_loan_quota(policy, running)


async def check_free(s: AsyncSession, resource: Resource, policy: Policy, req: NewBooking, *, excluding: int | None = None) -> Interval:
    """Exclusive resources: no other block may overlap. Pooled stock: the busiest instant leaves enough units."""
    block = rules.block_of(policy, req.start, req.end)
    taken = await store.active_blocks(s, resource.id, block, excluding=excluding)
    if ResourceKind(resource.kind) in EXCLUSIVE_KINDS:
        rules.check_slot_free(block, [Interval(b.block_start, b.block_end) for b in taken])
    else:
        peak = pooled_rules.peak_units([(Interval(b.block_start, b.block_end), b.quantity) for b in taken], block)
        pooled_rules.check_stock(resource.stock or 0, peak, req.quantity)
    return block


async def insert_if_free(s: AsyncSession, resource: Resource, policy: Policy, booker: Booker, req: NewBooking, *, now: datetime) -> Booking:
    """Insert the booking, with its event, if the booker's quotas allow it and its block is free (exclusive
    resources), or if the stock and the borrower's standing allow it (loans: quotas, stock, insert and on PostgreSQL
    its event in one statement). A refusal then reads what stood in the way, to name it."""
    booking = new_row(resource, policy, booker, req, rules.block_of(policy, req.start, req.end), now=now)
    told = False
    if ResourceKind(resource.kind) in EXCLUSIVE_KINDS:
        await check_quota(s, resource, policy, booker, req, now=now, excluding=None, adds_one=True)
        if await inserts.insert_unless_overlapping(s, booking) is None:
            await check_free(s, resource, policy, req)
            raise rules.SlotTaken(resource_id=resource.id)  # not reached while the resource is locked; refused all the same
    else:
        fits, told = await inserts.insert_loan_if_clearly_fitting(
            s, booking, stock=resource.stock or 0, max_loans=policy.max_active_loans, lends_freely=booker.kind is BookerKind.STAFF,
            now=now, told_as=f"booking_{booking.status}",
        )  # fmt: skip
        if fits is None:
            await check_borrower(s, policy, booker, now=now, adds_one=True)
            await check_free(s, resource, policy, req)  # the busiest instant, exactly: refuses if the stock is truly short
            await inserts.insert_booking(s, booking)  # the sum of overlapping loans overstated their busiest instant
    if not told:
        outbox.record_booking_event(s, f"booking_{booking.status}", booking, at=now)
    return booking


async def book_in_one_statement(
    db: Db, resource: Resource, policy: Policy, booker: Booker, req: NewBooking, *, now: datetime
) -> Booking | None:
    """PostgreSQL's quick way for a room or bed with no quota to count (lock, overlap check, insert and its event in
    one statement) and for a loan (the same in one call of `allmenning_lend`), committing by itself: one
    round trip. None when it does not apply or did not book (the resource changed, a block overlaps, the stock or the
    borrower's standing may not allow it): the careful way then finds out which and says so. A room's twin that
    committed while this waited for the lock is caught by the exclusion constraint (IntegrityError, as in a
    transaction); a loan's checks run after the lock is held, so they see every loan committed before."""
    counts_quota = policy.association_hours_per_week is not None or policy.max_active_bookings_per_person is not None
    exclusive = ResourceKind(resource.kind) in EXCLUSIVE_KINDS
    if not db.is_postgresql or (exclusive and counts_quota):
        return None
    booking = new_row(resource, policy, booker, req, rules.block_of(policy, req.start, req.end), now=now)
    async with db.one_statement() as conn:
        if exclusive:
            return await inserts.insert_with_its_event(conn, booking, resource, kind=f"booking_{booking.status}", at=now)
        return await inserts.lend_in_one_call(
            conn, booking, resource, stock=resource.stock or 0, max_loans=policy.max_active_loans,
            lends_freely=booker.kind is BookerKind.STAFF, now=now, told_as=f"booking_{booking.status}",
        )  # fmt: skip


def new_row(
    resource: Resource,
    policy: Policy,
    booker: Booker,
    req: NewBooking,
    block: Interval,
    *,
    now: datetime,
    series_id: int | None = None,
    kit_loan_id: str | None = None,
) -> Booking:
    needs_approval = policy.needs_approval and booker.kind is not BookerKind.STAFF
    return store.new_booking(
        resource_id=resource.id,
        person_id=booker.person_id,
        association_id=booker.association_id,
        series_id=series_id,
        title=req.title,
        start=req.start,
        end=req.end,
        block_start=block.start,
        block_end=block.end,
        exclusive=ResourceKind(resource.kind) in EXCLUSIVE_KINDS,
        quantity=req.quantity,
        attendees=req.attendees,
        status=(BookingStatus.REQUESTED if needs_approval else BookingStatus.CONFIRMED).value,
        created_at=now,
        updated_at=now,
        kit_loan_id=kit_loan_id,
    )


def is_overlap_violation(exc: IntegrityError) -> bool:
    return EXCLUSION_CONSTRAINT in str(exc.orig)


async def resource_with_policy(db: Db, resource_id: int) -> tuple[Resource, Policy]:
    """The resource and its policy as staff last set them; remembered briefly (`Db.memo`), as every booking asks."""

    async def read() -> tuple[Resource, Policy]:
        async with db.read() as s:
            resource = await catalogue.get_resource(s, resource_id)
            return resource, await catalogue.policy_of(s, resource)

    return await db.memo.get_or_read(("policy", resource_id), read)


async def as_locked(s: AsyncSession, resource: Resource, policy: Policy) -> tuple[Resource, Policy]:
    """On PostgreSQL, the resource's row locked until COMMIT and read afresh, with its policy and closures read again if
    another process changed them since we remembered them (adding a closure stamps the resource's `updated_at`, and
    takes this same row lock); SQLite's BEGIN IMMEDIATE already excludes every other writer."""
    if await store.lock_resource_as_seen(s, resource) in (None, True):
        return resource, policy
    fresh = await store.get_resource(s, resource.id)  # locked already: changed since we remembered it, read it whole
    return fresh, await catalogue.policy_of(s, fresh)


def books_as_staff(actor: Actor, location_id: int | None) -> bool:
    """Booking as staff skips approval, so it is for those who decide requests at that place."""
    return actor.may(Duty.DECIDE, location_id)


async def location_of(s: AsyncSession, resource_id: int) -> int:
    """The location a resource (and so each of its bookings) belongs to: where staff checks look (404 if no such resource)."""
    found = (await s.execute(select(Resource.location_id).where(Resource.id == resource_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No resource {resource_id}", resource_id=resource_id)
    return found


def check_may_see(actor: Actor, booking: Booking, location_id: int | None = None) -> None:
    """The booker, their association's members, and staff who read at the booking's place (None: read everywhere)."""
    if not may_see(actor, booking.person_id, booking.association_id, location_id):
        raise Forbidden("This booking is not yours", booking_id=booking.id)


def acts_for_someone_else(actor: Actor, booking: Booking) -> bool:
    """Someone other than the booker acts on it (staff, or the association's admin): the audit trail records it."""
    return booking.person_id != actor.person_id


def check_may_act_on(actor: Actor, booking: Booking, location_id: int | None = None) -> None:
    """The booker, an admin of the booking's association, or staff who decide at its place may change or cancel it;
    staff of another place are told so (`not_at_this_location`)."""
    if booking.person_id == actor.person_id:
        return
    if booking.association_id is not None and actor.is_admin_of(booking.association_id):
        return
    if actor.is_staff:  # deliberate: staff hear which of their roles falls short; anyone else that it is not theirs
        check_may(actor, Duty.DECIDE, location_id)
        return
    raise Forbidden("Only the booker, the association's admins or staff may change this booking", booking_id=booking.id)


def places_listed(actor: Actor, duty: Duty, *, location_id: int | None = None, all_places: bool = False) -> frozenset[int] | None:
    """The places a staff list shows (None: all): one asked for, where the actor reads; all they read; or by default
    their own places for the list's duty (those who only read see what they read)."""
    check_staff(actor)  # deliberate: any role may open a staff list; what it shows is bounded below
    if location_id is not None:
        check_may(actor, Duty.READ, location_id)
        return frozenset({location_id})
    own = actor.places(duty)
    if all_places or own == frozenset():
        return actor.places(Duty.READ)
    return own
