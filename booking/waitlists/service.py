"""Use cases for waitlists of room slots and equipment: join, see one's place, leave; staff see and reorder a line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import store
from booking.engine import (
    NewBooking,
    booker_for,
    check_free,
    check_may_act_on,
    check_policy,
    location_of,
)
from booking.rules import InsufficientStock, ReasonRequired, SlotTaken
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import (
    AlreadyWaiting,
    EntryStatus,
    NotTaken,
    NotWaiting,
    WaitKind,
    check_within_stock,
    moved_to,
)
from booking.waitlists.store import WaitlistEntry, WaitlistOffer
from infra import audit
from infra.audit import Action
from infra.database import Db
from infra.errors import DomainError, ErrorCode, Forbidden, NotFound
from people.actor import Actor, Duty, check_may, may_see
from resources import store as catalogue
from resources.rules import ResourceKind

KIND_OF = {ResourceKind.ROOM: WaitKind.ROOM_SLOT, ResourceKind.EQUIPMENT: WaitKind.EQUIPMENT}


class UseSeasonWaitlist(DomainError):
    code = ErrorCode.USE_SEASON_WAITLIST
    status = 422
    title = "Garden beds are waited for through their season: POST /api/v1/seasons/{id}/waitlist"


@dataclass(frozen=True)
class Place:
    """An entry as its owner sees it: where it stands in line, and its open offer if any."""

    entry: WaitlistEntry
    position: int | None
    offer: WaitlistOffer | None


async def join(db: Db, actor: Actor, wanted: NewBooking, *, now: datetime) -> Place:
    """Wait for a taken room slot or for units of an item: the wish must be bookable, just not free now."""
    async with db.read() as s:
        resource = await catalogue.get_resource(s, wanted.resource_id)
        policy = await catalogue.policy_of(s, resource)
    kind = KIND_OF.get(ResourceKind(resource.kind))
    if kind is None:
        raise UseSeasonWaitlist()
    booker = booker_for(actor, wanted.association_id, resource.location_id)
    check_policy(resource, policy, booker, wanted, now=now)
    if kind is WaitKind.EQUIPMENT:
        check_within_stock(resource.stock or 0, wanted.quantity)
    async with db.write() as s:
        await store.lock_resource(s, resource.id)
        try:
            await check_free(s, resource, policy, wanted)
        except (SlotTaken, InsufficientStock):
            pass
        else:
            raise NotTaken(resource_id=resource.id)
        await _check_not_waiting(s, actor.person_id, wanted)
        entry = WaitlistEntry(
            kind=kind.value,
            resource_id=resource.id,
            start=wanted.start,
            end=wanted.end,
            quantity=wanted.quantity,
            person_id=actor.person_id,
            association_id=wanted.association_id,
            joined_at=now,
            updated_at=now,
        )
        entry.position = await waitlist_store.back_of_line(s, entry)
        s.add(entry)
        await s.flush()
        return await place_of(s, entry)


async def _check_not_waiting(s: AsyncSession, person_id: int, wanted: NewBooking) -> None:
    query = select(WaitlistEntry.id).where(
        WaitlistEntry.person_id == person_id,
        WaitlistEntry.resource_id == wanted.resource_id,
        WaitlistEntry.start == wanted.start,
        WaitlistEntry.end == wanted.end,
        WaitlistEntry.status.in_((EntryStatus.WAITING.value, EntryStatus.OFFERED.value)),
    )
    if (existing := (await s.execute(query)).scalars().first()) is not None:
        raise AlreadyWaiting(entry_id=existing)


async def place_of(s: AsyncSession, entry: WaitlistEntry) -> Place:
    position = None
    if entry.status == EntryStatus.WAITING.value:
        line = await waitlist_store.line_of(s, entry)
        position = next(i for i, e in enumerate(line, start=1) if e.id == entry.id)
    return Place(entry, position, await waitlist_store.open_offer_of(s, entry.id))


async def place_of_entry(s: AsyncSession, entry: WaitlistEntry) -> int | None:
    """The location of what an entry waits for; None for a season's line of beds (staff who read everywhere see it)."""
    return await location_of(s, entry.resource_id) if entry.resource_id is not None else None


def check_may_see(actor: Actor, entry: WaitlistEntry, location_id: int | None) -> None:
    if not may_see(actor, entry.person_id, entry.association_id, location_id):
        raise Forbidden("This waitlist entry is not yours", entry_id=entry.id)


async def get_place(db: Db, actor: Actor, entry_id: int) -> Place:
    async with db.read() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        check_may_see(actor, entry, await place_of_entry(s, entry))
        return await place_of(s, entry)


async def my_places(db: Db, actor: Actor) -> list[Place]:
    async with db.read() as s:
        return [await place_of(s, e) for e in await waitlist_store.entries_of(s, person_id=actor.person_id)]


async def line(db: Db, actor: Actor, *, resource_id: int | None, season_id: int | None) -> list[Place]:
    """Staff who read at the resource's place: a whole line as it stands, every status, first in line first (a season's
    line: those who read everywhere)."""
    async with db.read() as s:
        try:
            location_id = await location_of(s, resource_id) if resource_id is not None else None
        except NotFound:  # no such resource: no line, which only those who read everywhere may be told
            location_id = None
        check_may(actor, Duty.READ, location_id)
        entries = await waitlist_store.entries_of(s, resource_id=resource_id, season_id=season_id)
        return [await place_of(s, e) for e in entries]


async def leave(db: Db, actor: Actor, entry_id: int, *, now: datetime) -> Place:
    """Leave a line while waiting (an open offer is declined instead); staff who take someone off it are recorded."""
    async with db.write() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        location_id = await place_of_entry(s, entry)
        check_may_act_on(actor, entry, location_id)  # the same people who may act on a booking: its owner, admins, staff there
        if entry.status != EntryStatus.WAITING.value:
            raise NotWaiting(status=entry.status)
        entry.becomes(EntryStatus.LEFT, now=now)
        s.add(entry)
        if entry.person_id != actor.person_id:
            _record(
                s, Action.WAITLIST_REMOVED, actor, entry, location_id, "", {"status": EntryStatus.WAITING}, {"status": entry.status}, now
            )
        return await place_of(s, entry)


async def move(db: Db, actor: Actor, entry_id: int, position: int, reason: str, *, now: datetime) -> Place:
    """Staff who decide at the line's place put a waiting entry at a place in it, saying why; it takes the priority
    tier of its new neighbour. A season's line of beds is the season's work (`Duty.SEASON`, granted everywhere)."""
    async with db.write() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        location_id = await place_of_entry(s, entry)
        check_may(actor, Duty.DECIDE if entry.resource_id is not None else Duty.SEASON, location_id)
        if not reason.strip():
            raise ReasonRequired("Moving someone in a waitlist must say why")
        if entry.status != EntryStatus.WAITING.value:
            raise NotWaiting(status=entry.status)
        waiting = await waitlist_store.line_of(s, entry)
        before = {"position": next(i for i, e in enumerate(waiting, start=1) if e.id == entry.id), "tier": entry.tier}
        order = moved_to([e.id for e in waiting], entry.id, position)
        by_id = {e.id: e for e in waiting}
        at = order.index(entry.id)
        neighbour = by_id[order[at + 1]] if at + 1 < len(order) else by_id[order[at - 1]] if at else entry
        entry.tier = neighbour.tier
        for number, entry_id_in_line in enumerate(order, start=1):
            by_id[entry_id_in_line].position = number
            s.add(by_id[entry_id_in_line])
        entry.moved_by, entry.move_reason, entry.updated_at = actor.person_id, reason.strip(), now
        after = {"position": at + 1, "tier": entry.tier}
        _record(s, Action.WAITLIST_MOVED, actor, entry, location_id, reason, before, after, now)
        return await place_of(s, entry)


def _record(
    s: AsyncSession,
    action: Action,
    actor: Actor,
    entry: WaitlistEntry,
    location_id: int | None,
    reason: str,
    before: dict,
    after: dict,
    now: datetime,
) -> None:
    """A change to someone's place in line, in the audit trail: the one waiting its subject."""
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=entry.id, location_id=location_id, subject_id=entry.person_id,
        reason=reason.strip(), before=before, after=after,
    )  # fmt: skip
