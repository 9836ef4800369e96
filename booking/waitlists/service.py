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
from infra.database import Db
from infra.errors import DomainError, ErrorCode, Forbidden
from people.actor import Actor, check_staff, may_see
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
    booker = booker_for(actor, wanted.association_id)
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


def check_may_see(actor: Actor, entry: WaitlistEntry) -> None:
    if not may_see(actor, entry.person_id, entry.association_id):
        raise Forbidden("This waitlist entry is not yours", entry_id=entry.id)


async def get_place(db: Db, actor: Actor, entry_id: int) -> Place:
    async with db.read() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        check_may_see(actor, entry)
        return await place_of(s, entry)


async def my_places(db: Db, actor: Actor) -> list[Place]:
    async with db.read() as s:
        return [await place_of(s, e) for e in await waitlist_store.entries_of(s, person_id=actor.person_id)]


async def line(db: Db, actor: Actor, *, resource_id: int | None, season_id: int | None) -> list[Place]:
    """Staff: a whole line as it stands, every status, first in line first."""
    check_staff(actor)
    async with db.read() as s:
        entries = await waitlist_store.entries_of(s, resource_id=resource_id, season_id=season_id)
        return [await place_of(s, e) for e in entries]


async def leave(db: Db, actor: Actor, entry_id: int, *, now: datetime) -> Place:
    """Leave a line while waiting (an open offer is declined instead)."""
    async with db.write() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        check_may_act_on(actor, entry)  # the same people who may act on a booking: its owner, admins, staff
        if entry.status != EntryStatus.WAITING.value:
            raise NotWaiting(status=entry.status)
        entry.becomes(EntryStatus.LEFT, now=now)
        s.add(entry)
        return await place_of(s, entry)


async def move(db: Db, actor: Actor, entry_id: int, position: int, reason: str, *, now: datetime) -> Place:
    """Staff put a waiting entry at a place in its line, saying why; it takes the priority tier of its new neighbour."""
    check_staff(actor)
    if not reason.strip():
        raise ReasonRequired("Moving someone in a waitlist must say why")
    async with db.write() as s:
        entry = await waitlist_store.get_entry(s, entry_id)
        if entry.status != EntryStatus.WAITING.value:
            raise NotWaiting(status=entry.status)
        waiting = await waitlist_store.line_of(s, entry)
        order = moved_to([e.id for e in waiting], entry.id, position)
        by_id = {e.id: e for e in waiting}
        at = order.index(entry.id)
        neighbour = by_id[order[at + 1]] if at + 1 < len(order) else by_id[order[at - 1]] if at else entry
        entry.tier = neighbour.tier
        for number, entry_id_in_line in enumerate(order, start=1):
            by_id[entry_id_in_line].position = number
            s.add(by_id[entry_id_in_line])
        entry.moved_by, entry.move_reason, entry.updated_at = actor.person_id, reason.strip(), now
        return await place_of(s, entry)
