"""Use cases that close a resource (or a whole place), retire it or lower its stock, and settle the active bookings that covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import closure_rules
from booking.closure_rules import Choice, Decision, Fate, Held, fate_of
from booking.lifecycle import mark_cancelled
from booking.rules import BookingStatus
from booking.store import ACTIVE_VALUES, HANDED_OUT_VALUES, Booking, one_of
from booking.waitlists import offers
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import EntryStatus, OfferOutcome, WaitKind
from infra import audit
from infra.audit import Action
from infra.database import Db
from infra.rows import is_postgresql, locked
from infra.time import Interval, as_utc
from people.actor import Actor, Duty, check_may
from people.store import StaffGrant
from resources import rules as catalogue_rules
from resources import service as catalogue
from resources import store as catalogue_store
from resources.rules import BookerKind, ResourceKind
from resources.service import ResourceDetail
from resources.store import Closure, Resource


@dataclass(frozen=True)
class Covered:
    """A booking the change covers, as staff are shown it: no names, only when, what kind of booker, and its state."""

    id: int
    start: datetime
    end: datetime
    status: str
    booker: BookerKind
    quantity: int
    fate: Fate  # what choosing to cancel does to it
    resource_id: int = 0  # which resource it is of, where a change covers several (a whole place closed)


@dataclass(frozen=True)
class Outcome:
    """What became of the covered bookings, by id."""

    choice: Choice | None = None
    cancelled: tuple[int, ...] = ()
    withdrawn: tuple[int, ...] = ()
    kept: tuple[int, ...] = ()


# ---------------------------------------------------------------- closing


async def preview_closure(db: Db, actor: Actor, resource_id: int, start: datetime, end: datetime, *, now: datetime) -> list[Covered]:
    """The active bookings and loans a closure would cover, before it is saved."""
    closure = catalogue.closure_of(start, end, "")
    async with db.read() as s:
        resource = await catalogue_store.get_resource(s, resource_id)
        check_may(actor, Duty.CLOSE, resource.location_id)
        catalogue.check_closure(resource, closure)
        rows = (await s.execute(_meeting(resource_id, closure, now=now))).scalars()
        return await _shown(s, _inside(resource, closure.interval, list(rows)))


async def add_closure(
    db: Db, actor: Actor, resource_id: int, start: datetime, end: datetime, reason: str, decision: Decision, *, now: datetime
) -> tuple[Closure, Outcome]:
    """Close a resource for a while: what it covers is cancelled with the closure's reason, or kept, as staff choose."""
    closure = catalogue.closure_of(start, end, reason)
    async with db.write() as s:
        resource, rows = await _locked(s, resource_id, _meeting(resource_id, closure, now=now))
        check_may(actor, Duty.CLOSE, resource.location_id)
        catalogue.check_closure(resource, closure)
        outcome = await _settle(s, actor, _inside(resource, closure.interval, rows), decision, reason, may_wait_on=False, now=now)
        saved = await catalogue.save_closure(s, resource, closure, now=now)
        after = {"resource_id": resource.id, "start": as_utc(saved.start), "end": as_utc(saved.end)}
        _record(s, Action.CLOSURE_ADDED, actor, saved.id, resource.location_id, reason, outcome, after=after, now=now)
        return saved, outcome


# ---------------------------------------------------------------- closing a whole place


async def preview_location_closure(
    db: Db, actor: Actor, location_id: int, start: datetime, end: datetime, *, now: datetime
) -> tuple[list[Resource], list[Covered]]:
    """The resources of a place still in use, and the active bookings and loans a closure of them all would cover."""
    check_may(actor, Duty.CLOSE, location_id)
    closure = catalogue.closure_of(start, end, "")
    async with db.read() as s:
        await catalogue_store.get_location(s, location_id)
        resources = list((await s.execute(_in_use_at(location_id))).scalars())
        for resource in resources:
            catalogue.check_closure(resource, closure)
        rows = list((await s.execute(_meeting_any([r.id for r in resources], closure, now=now))).scalars())
        return resources, await _shown(s, _inside_any(resources, closure.interval, rows))


async def close_location(
    db: Db, actor: Actor, location_id: int, start: datetime, end: datetime, reason: str, decision: Decision, *, now: datetime
) -> tuple[list[Closure], Outcome]:
    """Close every resource of a place still in use for a while, with one reason ("Juleferie"): what that covers is
    cancelled with the reason, or kept, as staff choose once for them all; in one transaction."""
    check_may(actor, Duty.CLOSE, location_id)
    closure = catalogue.closure_of(start, end, reason)
    async with db.write() as s:
        await catalogue_store.get_location(s, location_id)
        resources, rows = await _place_locked(s, location_id, closure, now=now)
        for resource in resources:
            catalogue.check_closure(resource, closure)
        outcome = await _settle(s, actor, _inside_any(resources, closure.interval, rows), decision, reason, may_wait_on=False, now=now)
        saved = [await catalogue.save_closure(s, resource, closure, now=now) for resource in resources]
        after = {
            "start": as_utc(closure.start),
            "end": as_utc(closure.end),
            "resources": [r.id for r in resources],
            "closures": [c.id for c in saved],
        }
        _record(s, Action.LOCATION_CLOSED, actor, location_id, location_id, reason, outcome, after=after, now=now)
        return saved, outcome


def _in_use_at(location_id: int) -> Select:
    """A place's resources not retired, in id order: the order their rows are locked in."""
    return select(Resource).where(Resource.location_id == location_id, Resource.retired_at.is_(None)).order_by(Resource.id)


def _meeting_any(resource_ids: list[int], closure: catalogue_rules.Closure, *, now: datetime) -> Select:
    on = or_(Booking.end > now, one_of(Booking.status, HANDED_OUT_VALUES))
    meets = (Booking.start < closure.end, Booking.end > closure.start)
    query = select(Booking).where(Booking.resource_id.in_(resource_ids), one_of(Booking.status, ACTIVE_VALUES), on, *meets)
    return query.order_by(Booking.id)


def _inside_any(resources: list[Resource], span: Interval, rows: list[Booking]) -> list[Booking]:
    kinds = {r.id: ResourceKind(r.kind) for r in resources}
    return [b for b in rows if closure_rules.covered_by_closure(kinds[b.resource_id], b.start, b.end, span)]


async def _place_locked(
    s: AsyncSession, location_id: int, closure: catalogue_rules.Closure, *, now: datetime
) -> tuple[list[Resource], list[Booking]]:
    """As `_locked`, for every resource of the place: on PostgreSQL the bookings first, then the resources in id
    order, then the bookings read again under their resources' locks."""
    ids = list((await s.execute(select(Resource.id).where(Resource.location_id == location_id, Resource.retired_at.is_(None)))).scalars())
    if is_postgresql(s) and ids:
        await s.execute(locked(s, _meeting_any(ids, closure, now=now)))
    resources = list((await s.execute(locked(s, _in_use_at(location_id)))).scalars())
    query = _meeting_any([r.id for r in resources], closure, now=now)
    return resources, list((await s.execute(locked(s, query))).scalars()) if resources else []


# ---------------------------------------------------------------- retiring


async def preview_retirement(db: Db, actor: Actor, resource_id: int, *, now: datetime) -> list[Covered]:
    """Every active booking still to come (or loan still out) of the resource."""
    async with db.read() as s:
        check_may(actor, Duty.CLOSE, (await catalogue_store.get_resource(s, resource_id)).location_id)
        return await _shown(s, list((await s.execute(_still_on(resource_id, now=now))).scalars()))


async def retire_resource(
    db: Db, actor: Actor, resource_id: int, decision: Decision, reason: str, *, now: datetime
) -> tuple[ResourceDetail, Outcome]:
    """Retire a resource: its bookings still to come are cancelled with a reason, or kept, as staff choose."""
    async with db.write() as s:
        resource, rows = await _locked(s, resource_id, _still_on(resource_id, now=now))
        check_may(actor, Duty.CLOSE, resource.location_id)
        outcome = await _settle(s, actor, rows, decision, reason, may_wait_on=False, now=now)
        before = {"retired_at": resource.retired_at}
        catalogue.retire(resource, now=now)
        _record(s, Action.RESOURCE_RETIRED, actor, resource.id, resource.location_id, reason, outcome, before, {"retired_at": now}, now=now)
        return await catalogue.detail_of(s, resource), outcome


# ---------------------------------------------------------------- changing, the stock among it


async def preview_stock(db: Db, actor: Actor, resource_id: int, stock: int, *, now: datetime) -> list[Covered]:
    """The loans out or booked ahead that a stock of this many units could no longer hold."""
    async with db.read() as s:
        resource = await catalogue_store.get_resource(s, resource_id)
        check_may(actor, Duty.CLOSE, resource.location_id)
        rows = list((await s.execute(_still_on(resource_id, now=now))).scalars())
        return await _shown(s, _over_stock(resource, stock, rows))


async def update_resource(
    db: Db, actor: Actor, resource_id: int, changes: Mapping[str, Any], decision: Decision, reason: str, *, now: datetime
) -> tuple[ResourceDetail, Outcome]:
    """Change a resource's details or rules; a lower stock cancels (with a reason) or keeps, as staff choose, the loans
    it no longer holds. Editing is `Duty.CATALOGUE` at the resource's place; setting the stock also `Duty.CLOSE`, as it
    may cancel loans."""
    sets_stock = changes.get("stock") is not None
    async with db.write() as s:
        resource, rows = await _locked(s, resource_id, _still_on(resource_id, now=now) if sets_stock else None)
        for duty in (Duty.CATALOGUE, Duty.CLOSE) if sets_stock else (Duty.CATALOGUE,):
            check_may(actor, duty, resource.location_id)
        if changes.get("location_id") is not None:  # moving it elsewhere: staff of both places
            check_may(actor, Duty.CATALOGUE, changes["location_id"])
        catalogue.check_changeable(changes)
        if sets_stock and resource.kind == ResourceKind.EQUIPMENT.value:
            closure_rules.check_stock_holds_what_is_out([_held(b) for b in rows], changes["stock"])
        before = {"stock": resource.stock}
        await catalogue.change_resource(s, resource, changes, now=now, actor_id=actor.person_id, reason=reason)
        over = _over_stock(resource, resource.stock or 0, rows) if sets_stock else []
        # Those over may wait in line again: units that come back fit the same wish.
        outcome = await _settle(s, actor, over, decision, reason, may_wait_on=True, now=now)
        if sets_stock and before["stock"] != resource.stock:
            _record(
                s,
                Action.STOCK_CHANGED,
                actor,
                resource.id,
                resource.location_id,
                reason,
                outcome,
                before,
                {"stock": resource.stock},
                now=now,
            )
        return await catalogue.detail_of(s, resource), outcome


# ---------------------------------------------------------------- what is covered


def _still_on(resource_id: int, *, now: datetime) -> Select:
    """The resource's active bookings not over yet (a loan handed out is on until it is back), in id order."""
    on = or_(Booking.end > now, one_of(Booking.status, HANDED_OUT_VALUES))
    return select(Booking).where(Booking.resource_id == resource_id, one_of(Booking.status, ACTIVE_VALUES), on).order_by(Booking.id)


def _meeting(resource_id: int, closure: catalogue_rules.Closure, *, now: datetime) -> Select:
    """Those meeting the closure: its ends as given, as the closure is only checked once its resource is read."""
    return _still_on(resource_id, now=now).where(Booking.start < closure.end, Booking.end > closure.start)


def _inside(resource: Resource, span: Interval, rows: list[Booking]) -> list[Booking]:
    kind = ResourceKind(resource.kind)
    return [b for b in rows if closure_rules.covered_by_closure(kind, b.start, b.end, span)]


def _held(b: Booking) -> Held:
    return Held(b.id, BookingStatus(b.status), b.start, b.end, Interval(b.block_start, b.block_end), b.quantity, b.created_at)


def _over_stock(resource: Resource, stock: int, rows: list[Booking]) -> list[Booking]:
    if resource.kind != ResourceKind.EQUIPMENT.value:
        return []
    over = {loan.id for loan in closure_rules.over_stock([_held(b) for b in rows], stock)}
    return [b for b in rows if b.id in over]


async def _locked(s: AsyncSession, resource_id: int, query: Select | None) -> tuple[Resource, list[Booking]]:
    """The resource and the bookings the query finds, locked for the change. On PostgreSQL the bookings are locked
    first, in the order every writer of one booking takes (the booking, then its resource), then read again under the
    resource's lock, which keeps new bookings out; SQLite's BEGIN IMMEDIATE already holds the whole database."""
    if query is not None and is_postgresql(s):
        await s.execute(locked(s, query))
    resource = await catalogue_store.get_resource(s, resource_id, lock=True)
    return resource, list((await s.execute(locked(s, query))).scalars()) if query is not None else []


async def _shown(s: AsyncSession, rows: list[Booking]) -> list[Covered]:
    """The covered bookings in time order, each with the kind of booker it has (an association, staff, a resident)."""
    person_ids = {b.person_id for b in rows if b.association_id is None}
    staff = (
        set((await s.execute(select(StaffGrant.person_id).where(StaffGrant.person_id.in_(person_ids)))).scalars()) if person_ids else set()
    )

    def booker(b: Booking) -> BookerKind:
        if b.association_id is not None:
            return BookerKind.ASSOCIATION
        return BookerKind.STAFF if b.person_id in staff else BookerKind.RESIDENT

    ordered = sorted(rows, key=lambda b: (b.start, b.id))
    return [
        Covered(b.id, b.start, b.end, b.status, booker(b), b.quantity, fate_of(BookingStatus(b.status)), b.resource_id) for b in ordered
    ]


# ---------------------------------------------------------------- settling them


async def _settle(
    s: AsyncSession, actor: Actor, rows: list[Booking], decision: Decision, reason: str, *, may_wait_on: bool, now: datetime
) -> Outcome:
    """Cancel the covered bookings, each booker told the reason, and withdraw held offers; or keep them all."""
    closure_rules.check_decision([b.id for b in rows], decision)
    fates = {b.id: fate_of(BookingStatus(b.status)) for b in rows}
    if decision.choice is not Choice.CANCEL:
        return Outcome(decision.choice, kept=tuple(fates))
    closure_rules.check_reason_given(list(fates.values()), decision, reason)
    for booking in rows:
        if fates[booking.id] is Fate.WITHDRAW:
            await _withdraw(s, booking, actor, reason, may_wait_on=may_wait_on, now=now)
        elif fates[booking.id] is Fate.CANCEL:
            mark_cancelled(s, booking, actor, reason, now=now)
    by_fate = {fate: tuple(i for i, f in fates.items() if f is fate) for fate in Fate}
    return Outcome(Choice.CANCEL, cancelled=by_fate[Fate.CANCEL], withdrawn=by_fate[Fate.WITHDRAW], kept=by_fate[Fate.STAYS])


async def _withdraw(s: AsyncSession, booking: Booking, actor: Actor, reason: str, *, may_wait_on: bool, now: datetime) -> None:
    """A held offer withdrawn: cancelled with the reason (its holder told), the offer answered, and the entry back in
    line where the same wish may yet be met (units that come back, another bed), else off it, what it waited for gone."""
    mark_cancelled(s, booking, actor, reason, now=now)
    offer = await waitlist_store.offer_holding(s, booking.id, lock=True)
    if offer is None:
        return
    offer.answer(OfferOutcome.WITHDRAWN, now=now)
    s.add(offer)
    entry = await waitlist_store.get_entry(s, offer.entry_id)
    waits_on = may_wait_on or entry.kind == WaitKind.GARDEN_BED.value
    entry.becomes(EntryStatus.WAITING if waits_on else EntryStatus.REMOVED, now=now)
    s.add(entry)
    if entry.season_id is not None:  # the season's application hears its offer ended, as when one runs out
        await offers.season_lines().answered(s, entry, OfferOutcome.EXPIRED, booking_id=booking.id, now=now)


def _record(
    s: AsyncSession, action: Action, actor: Actor, object_id: int | None, location_id: int, reason: str, outcome: Outcome,
    before: dict | None = None, after: dict | None = None, *, now: datetime,
) -> None:  # fmt: skip
    """The change in the audit trail, with what became of the bookings it covered (by id; their bookers are told)."""
    settled = {"covered": outcome.choice, "cancelled": outcome.cancelled, "withdrawn": outcome.withdrawn, "kept": outcome.kept}
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=object_id, location_id=location_id, reason=reason.strip(),
        before=before, after={**(after or {}), **settled},
    )  # fmt: skip
