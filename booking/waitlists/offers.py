"""Use cases for waitlist offers: hold freed capacity for the first eligible entry, accept, decline, expire."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import store
from booking.engine import (
    NewBooking,
    check_free,
    check_quota,
    is_overlap_violation,
    new_row,
)
from booking.pooled_rules import BorrowerOverdue
from booking.rules import Booker, BookingStatus, InsufficientStock, OverQuota, SlotTaken
from booking.store import Booking
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import (
    TERMS,
    AfterAnswer,
    EntryStatus,
    OfferOutcome,
    OfferTerms,
    WaitKind,
    after_decline,
    after_expiry,
    check_offer_is_for,
    check_offer_open,
    offer_deadline,
    wish_still_fits_when,
)
from booking.waitlists.store import WaitlistEntry, WaitlistOffer
from infra import outbox
from infra.database import Db
from people import store as people_store
from people.actor import Actor
from resources import store as catalogue
from resources.rules import BookerKind, Policy, ResourceKind
from resources.store import Resource

log = logging.getLogger("allmenning.offers")


class SeasonLines(Protocol):
    """What offers must ask of the seasons whose lines wait for beds; seasons register it, so waitlists know none of it."""

    async def in_play(self, s: Any) -> dict[int, Any]:
        """The live seasons, by id, whose lines may be offered a bed."""

    async def bed_fits(self, s: Any, bed: Resource, season: Any, entry: WaitlistEntry) -> bool:
        """The bed suits the entry, and its household holds no more beds than allowed."""

    def hold(self, season: Any) -> timedelta:
        """How long a bed offer of this season holds."""

    async def check_may_accept(self, s: Any, entry: WaitlistEntry, booking_id: int) -> None:
        """Refuse the acceptance that would give the household one bed too many."""

    async def answered(self, s: Any, entry: WaitlistEntry, status: str, *, booking_id: int, now: datetime) -> None:
        """A bed offer's answer is also the answer to the season application it came from."""

    async def beds(self, s: Any) -> list[int]:
        """The beds of the seasons in play, checked by the sweep when someone waits in a season's line."""


class NoSeasons:
    """Until seasons register: no season is in play."""

    async def in_play(self, s: Any) -> dict[int, Any]:
        return {}

    async def bed_fits(self, s: Any, bed: Resource, season: Any, entry: WaitlistEntry) -> bool:
        return False

    def hold(self, season: Any) -> timedelta:
        return TERMS[WaitKind.GARDEN_BED].hold

    async def check_may_accept(self, s: Any, entry: WaitlistEntry, booking_id: int) -> None:
        return None

    async def answered(self, s: Any, entry: WaitlistEntry, status: str, *, booking_id: int, now: datetime) -> None:
        return None

    async def beds(self, s: Any) -> list[int]:
        return []


_season_lines: list[SeasonLines] = [NoSeasons()]


def register_season_lines(lines: SeasonLines) -> None:
    """Seasons call this once, on import, with what offers need of them."""
    _season_lines[0] = lines


def season_lines() -> SeasonLines:
    return _season_lines[0]


async def offer_freed_capacity(db: Db, resource_id: int, *, now: datetime, skip_entry: int | None = None) -> list[Booking]:
    """Called after a transaction that freed capacity commits: offers it, held, to the first eligible entries.

    It never fails the change that freed the capacity: the expiry sweep offers whatever a failed call left free.
    """
    try:
        async with db.write() as s:
            return await offer_in(s, resource_id, now=now, skip_entry=skip_entry)
    except IntegrityError as exc:
        if not is_overlap_violation(exc):
            log.exception("offering freed capacity of resource %s failed", resource_id)
        return []
    except Exception:
        log.exception("offering freed capacity of resource %s failed", resource_id)
        return []


async def offer_in(s: AsyncSession, resource_id: int, *, now: datetime, skip_entry: int | None = None) -> list[Booking]:
    """Inside a write transaction: every waiting entry, in line order, whose wish now fits gets a held offer."""
    resource = await store.locked_resource(s, resource_id)
    if resource.retired_at is not None or resource.in_maintenance:
        return []
    is_bed = resource.kind == ResourceKind.GARDEN_BED.value
    seasons = await season_lines().in_play(s) if is_bed else {}
    policy = await catalogue.policy_of(s, resource)
    made = []
    for entry in await waitlist_store.waiting_for(s, resource_id, list(seasons)):
        if entry.id == skip_entry or not _still_wanted(entry, now=now) or not await waitlist_store.still_waiting(s, entry.id):
            continue
        if is_bed and not await season_lines().bed_fits(s, resource, seasons[entry.season_id], entry):
            continue
        if not await _still_speaks_for_its_association(s, entry, now=now):
            continue
        booking = await _hold(s, resource, policy, entry, terms_for(entry, seasons.get(entry.season_id)), now=now)
        if booking is not None:
            made.append(booking)
    return made


def _still_wanted(entry: WaitlistEntry, *, now: datetime) -> bool:
    # A room slot or loan that has begun is no use to anyone; a bed is worth having until the season ends.
    if entry.kind == WaitKind.GARDEN_BED.value:
        return entry.end > now
    return entry.start > now


async def _still_speaks_for_its_association(s: AsyncSession, entry: WaitlistEntry, *, now: datetime) -> bool:
    """One who waited for an association and has since left it (or was removed) waits no more: the place was the
    association's, not theirs to keep."""
    if entry.association_id is None or await people_store.membership(s, entry.association_id, entry.person_id) is not None:
        return True
    entry.becomes(EntryStatus.REMOVED, now=now)
    s.add(entry)
    return False


def terms_for(entry: WaitlistEntry, season: Any) -> OfferTerms:
    """The kind's terms; a bed offer holds for as long as its season says."""
    terms = TERMS[WaitKind(entry.kind)]
    return replace(terms, hold=season_lines().hold(season)) if season is not None else terms


async def _hold(
    s: AsyncSession, resource: Resource, policy: Policy, entry: WaitlistEntry, terms: OfferTerms, *, now: datetime
) -> Booking | None:
    if not wish_still_fits_when(WaitKind(entry.kind), policy, entry.start, entry.end):
        return None
    wanted = NewBooking(resource.id, entry.start, entry.end, "", entry.association_id, None, entry.quantity)
    booker = Booker(entry.person_id, BookerKind.ASSOCIATION if entry.association_id else BookerKind.RESIDENT, entry.association_id)
    try:  # eligible: within their quotas, nothing overdue, and the wish fits the freed capacity
        await check_quota(s, resource, policy, booker, wanted, now=now, excluding=None, adds_one=True)
        booking = await hold(s, resource, policy, booker, wanted, now=now)
    except (SlotTaken, InsufficientStock, OverQuota, BorrowerOverdue):
        return None
    slot_start = None if entry.kind == WaitKind.GARDEN_BED.value else entry.start
    deadline = offer_deadline(terms, now=now, slot_start=slot_start)
    await open_offer(s, booking, entry, deadline, now=now)
    outbox.record_booking_event(s, "offer_made", booking, at=now, **offer_details(booking.id, entry, deadline))
    return booking


async def hold(s: AsyncSession, resource: Resource, policy: Policy, booker: Booker, wanted: NewBooking, *, now: datetime) -> Booking:
    """The capacity held as a booking in status `offered`: free, or SlotTaken / InsufficientStock says why not."""
    block = await check_free(s, resource, policy, wanted)
    booking = new_row(resource, policy, booker, wanted, block, now=now)
    booking.hold_for_offer()
    s.add(booking)
    await s.flush()
    return booking


async def open_offer(s: AsyncSession, booking: Booking, entry: WaitlistEntry, deadline: datetime, *, now: datetime) -> WaitlistOffer:
    """The held booking offered to the entry until the deadline (the entry is written first when it is new)."""
    entry.becomes(EntryStatus.OFFERED, now=now)
    s.add(entry)
    await s.flush()
    offer = WaitlistOffer(entry_id=entry.id, booking_id=booking.id, deadline=deadline, made_at=now)
    s.add(offer)
    return offer


def offer_details(booking_id: int, entry: WaitlistEntry, deadline: datetime) -> dict:
    """What an offer's mail needs beyond the booking: the deadline and where to answer."""
    return {
        "deadline": deadline.isoformat(),
        "entry_id": entry.id,
        "waitlist_kind": entry.kind,
        "season_id": entry.season_id,
        "accept_path": f"/api/v1/offers/{booking_id}/accept",
        "decline_path": f"/api/v1/offers/{booking_id}/decline",
    }


async def _open_offer(s: AsyncSession, actor: Actor, booking_id: int, *, now: datetime) -> tuple[Booking, WaitlistOffer, WaitlistEntry]:
    """The offer, locked, made to this actor, and still open: or the reason it cannot be answered."""
    booking = await store.get_booking(s, booking_id, for_update=True)
    offer, entry = await waitlist_store.offer_of(s, booking_id)
    check_offer_is_for(
        booking.person_id, booking.association_id, person_id=actor.person_id, member_of=actor.is_member_of, admin_of=actor.is_admin_of
    )
    check_offer_open(BookingStatus(booking.status), offer.deadline, now=now)
    return booking, offer, entry


async def accept_offer(db: Db, actor: Actor, booking_id: int, *, now: datetime) -> Booking:
    """The held capacity becomes the person's booking (a request, where the resource needs approval)."""
    async with db.write() as s:
        booking, offer, entry = await _open_offer(s, actor, booking_id, now=now)
        resource = await store.locked_resource(s, booking.resource_id)
        if entry.season_id is not None:
            await season_lines().check_may_accept(s, entry, booking.id)
        needs_approval = (await catalogue.policy_of(s, resource)).needs_approval and resource.kind != ResourceKind.GARDEN_BED.value
        booking.answer_offer(True, needs_approval=needs_approval, now=now)
        _answered(s, booking, offer, OfferOutcome.ACCEPTED, now=now)
        entry.becomes(EntryStatus.BOOKED, now=now)
        s.add(entry)
        await _tell_application(s, entry, OfferOutcome.ACCEPTED, booking_id=booking.id, now=now)
        outbox.record_booking_event(s, "offer_accepted", booking, at=now)
        return booking


async def decline_offer(db: Db, actor: Actor, booking_id: int, *, now: datetime) -> Booking:
    """The capacity passes on at once; a decline keeps one's place once, then sends one to the back."""
    async with db.write() as s:
        booking, offer, entry = await _open_offer(s, actor, booking_id, now=now)
        booking.answer_offer(False, needs_approval=False, now=now)
        _answered(s, booking, offer, OfferOutcome.DECLINED, now=now)
        entry.declines += 1
        await _requeue(s, entry, after_decline(TERMS[WaitKind(entry.kind)], entry.declines), now=now)
        await _tell_application(s, entry, OfferOutcome.DECLINED, booking_id=booking.id, now=now)
        outbox.record_booking_event(s, "offer_declined", booking, at=now)
    await offer_freed_capacity(db, booking.resource_id, now=now, skip_entry=entry.id)
    return booking


def _answered(s: AsyncSession, booking: Booking, offer: WaitlistOffer, outcome: OfferOutcome, *, now: datetime) -> None:
    offer.answer(outcome, now=now)
    s.add(booking)
    s.add(offer)


async def _requeue(s: AsyncSession, entry: WaitlistEntry, after: AfterAnswer, *, now: datetime) -> None:
    if after.to_back:
        entry.position = await waitlist_store.back_of_line(s, entry)
    entry.becomes(after.status, now=now)
    s.add(entry)


async def _tell_application(s: AsyncSession, entry: WaitlistEntry, status: OfferOutcome, *, booking_id: int, now: datetime) -> None:
    if entry.season_id is not None:
        await season_lines().answered(s, entry, status, booking_id=booking_id, now=now)


async def expire_offers(db: Db, *, now: datetime) -> list[Booking]:
    """The scheduler's sweep: unanswered offers past their deadline expire and pass on; then anything left free
    (a hook that failed, a new bed) is offered to whoever waits for it."""
    expired: list[tuple[Booking, WaitlistEntry]] = []
    async with db.write() as s:
        for offer in await waitlist_store.due_offers(s, now=now):
            booking = await store.get_booking(s, offer.booking_id, for_update=True)
            entry = await waitlist_store.get_entry(s, offer.entry_id)
            booking.expire_offer(now=now)
            _answered(s, booking, offer, OfferOutcome.EXPIRED, now=now)
            await _requeue(s, entry, after_expiry(TERMS[WaitKind(entry.kind)]), now=now)
            await _tell_application(s, entry, OfferOutcome.EXPIRED, booking_id=booking.id, now=now)
            outbox.record_booking_event(s, "offer_expired", booking, at=now)
            expired.append((booking, entry))
    for booking, entry in expired:
        await offer_freed_capacity(db, booking.resource_id, now=now, skip_entry=entry.id)
    await offer_whatever_is_free(db, now=now)
    return [booking for booking, _ in expired]


async def offer_whatever_is_free(db: Db, *, now: datetime) -> None:
    """Every line with someone waiting is checked against free capacity: rooms, items, and the beds of live seasons."""
    async with db.read() as s:
        resource_ids, season_ids = await waitlist_store.lines_waiting(s)
        in_play = set(await season_lines().in_play(s))
        beds = await season_lines().beds(s) if in_play & set(season_ids) else []
    for resource_id in [*resource_ids, *beds]:
        await offer_freed_capacity(db, resource_id, now=now)
