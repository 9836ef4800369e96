"""Use cases for waitlist offers: hold freed capacity for the first eligible entry, accept, decline, expire."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from booking import season_store, store, waitlist_store
from booking.loan_rules import BorrowerOverdue
from booking.rules import Booker, BookingStatus, InsufficientStock, OverQuota, SlotTaken
from booking.season_rules import check_household_limit
from booking.service import NewBooking, check_free, check_quota, is_overlap_violation, new_row
from booking.store import Booking
from booking.waitlist_rules import TERMS, EntryStatus, OfferTerms, WaitKind, after_decline, after_expiry, bed_suits, check_offer_is_for, check_offer_open, offer_deadline
from booking.waitlist_store import WaitlistEntry, WaitlistOffer
from config.database import Db
from notifications import store as outbox
from people.actor import Actor
from resources import store as catalogue
from resources.rules import BookerKind, Policy, ResourceKind
from resources.store import Resource

log = logging.getLogger("allmenning.offers")


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
    except Exception:  # noqa: BLE001 - the sweep retries; the caller's change has committed already
        log.exception("offering freed capacity of resource %s failed", resource_id)
        return []


async def offer_in(s, resource_id: int, *, now: datetime, skip_entry: int | None = None) -> list[Booking]:  # noqa: ANN001
    """Inside a write transaction: every waiting entry, in line order, whose wish now fits gets a held offer."""
    resource = await store.locked_resource(s, resource_id)
    if resource.retired_at is not None or resource.in_maintenance:
        return []
    is_bed = resource.kind == ResourceKind.GARDEN_BED.value
    seasons = {x.id: x for x in await season_store.seasons_in_play(s)} if is_bed else {}
    policy = await catalogue.policy_of(s, resource)
    made = []
    for entry in await waitlist_store.waiting_for(s, resource_id, list(seasons)):
        if entry.id == skip_entry or not _still_wanted(entry, now=now) or not await waitlist_store.still_waiting(s, entry.id):
            continue
        if is_bed and not await _bed_fits(s, resource, seasons[entry.season_id], entry):
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


async def _bed_fits(s, bed: Resource, season, entry: WaitlistEntry) -> bool:  # noqa: ANN001
    """The bed suits the entry's wishes and the household holds no more beds than allowed (checked again at offer)."""
    if not bed_suits(entry.preferences, bed.id, list(bed.features)):
        return False
    return await season_store.household_beds(s, season, entry.household_key) < season.household_limit


def terms_for(entry: WaitlistEntry, season) -> OfferTerms:  # noqa: ANN001
    """The kind's terms; a bed offer holds for as many days as its season says."""
    terms = TERMS[WaitKind(entry.kind)]
    return replace(terms, hold=timedelta(days=season.offer_days)) if season is not None else terms


async def _hold(s, resource: Resource, policy: Policy, entry: WaitlistEntry, terms: OfferTerms, *, now: datetime) -> Booking | None:  # noqa: ANN001
    wanted = NewBooking(resource.id, entry.start, entry.end, "", entry.association_id, None, entry.quantity)
    booker = Booker(entry.person_id, BookerKind.ASSOCIATION if entry.association_id else BookerKind.RESIDENT, entry.association_id)
    try:  # eligible: within their quotas, nothing overdue, and the wish fits the freed capacity
        await check_quota(s, resource, policy, booker, wanted, now=now, excluding=None, adds_one=True)
        block = await check_free(s, resource, policy, wanted)
    except (SlotTaken, InsufficientStock, OverQuota, BorrowerOverdue):
        return None
    booking = new_row(resource, policy, booker, wanted, block, now=now)
    booking.status = BookingStatus.OFFERED.value
    s.add(booking)
    await s.flush()
    slot_start = None if entry.kind == WaitKind.GARDEN_BED.value else entry.start
    deadline = offer_deadline(terms, now=now, slot_start=slot_start)
    s.add(WaitlistOffer(entry_id=entry.id, booking_id=booking.id, deadline=deadline, made_at=now))
    entry.status, entry.updated_at = EntryStatus.OFFERED.value, now
    s.add(entry)
    outbox.record_booking_event(s, "offer_made", booking, at=now, **offer_details(booking.id, entry, deadline))
    return booking


def offer_details(booking_id: int, entry: WaitlistEntry, deadline: datetime) -> dict:
    """What an offer's mail needs beyond the booking: the deadline and where to answer."""
    return {"deadline": deadline.isoformat(), "entry_id": entry.id, "waitlist_kind": entry.kind, "season_id": entry.season_id,
            "accept_path": f"/api/v1/offers/{booking_id}/accept", "decline_path": f"/api/v1/offers/{booking_id}/decline"}


async def _open_offer(s, actor: Actor, booking_id: int, *, now: datetime) -> tuple[Booking, WaitlistOffer, WaitlistEntry]:  # noqa: ANN001
    """The offer, locked, made to this actor, and still open: or the reason it cannot be answered."""
    booking = await store.get_booking(s, booking_id, for_update=True)
    offer, entry = await waitlist_store.offer_of(s, booking_id)
    check_offer_is_for(booking.person_id, booking.association_id, person_id=actor.person_id, admin_of=actor.is_admin_of)
    check_offer_open(BookingStatus(booking.status), offer.deadline, now=now)
    return booking, offer, entry


async def accept_offer(db: Db, actor: Actor, booking_id: int, *, now: datetime) -> Booking:
    """The held capacity becomes the person's booking (a request, where the resource needs approval)."""
    async with db.write() as s:
        booking, offer, entry = await _open_offer(s, actor, booking_id, now=now)
        resource = await store.locked_resource(s, booking.resource_id)
        if entry.season_id is not None:
            season = await season_store.get_season(s, entry.season_id)
            check_household_limit(await season_store.household_beds(s, season, entry.household_key, excluding=booking.id), season.household_limit)
        needs_approval = (await catalogue.policy_of(s, resource)).needs_approval and resource.kind != ResourceKind.GARDEN_BED.value
        booking.status = (BookingStatus.REQUESTED if needs_approval else BookingStatus.CONFIRMED).value
        _answered(s, booking, offer, "accepted", now=now)
        entry.status, entry.updated_at = EntryStatus.BOOKED.value, now
        s.add(entry)
        await _tell_application(s, entry, "accepted", booking_id=booking.id, now=now)
        outbox.record_booking_event(s, "offer_accepted", booking, at=now)
        return booking


async def decline_offer(db: Db, actor: Actor, booking_id: int, *, now: datetime) -> Booking:
    """The capacity passes on at once; a decline keeps one's place once, then sends one to the back."""
    async with db.write() as s:
        booking, offer, entry = await _open_offer(s, actor, booking_id, now=now)
        booking.status = BookingStatus.DECLINED.value
        _answered(s, booking, offer, "declined", now=now)
        entry.declines += 1
        await _requeue(s, entry, after_decline(TERMS[WaitKind(entry.kind)], entry.declines), now=now)
        await _tell_application(s, entry, "declined", booking_id=booking.id, now=now)
        outbox.record_booking_event(s, "offer_declined", booking, at=now)
    await offer_freed_capacity(db, booking.resource_id, now=now, skip_entry=entry.id)
    return booking


def _answered(s, booking: Booking, offer: WaitlistOffer, outcome: str, *, now: datetime) -> None:  # noqa: ANN001
    booking.sequence += 1
    booking.updated_at = now
    offer.outcome, offer.answered_at = outcome, now
    s.add(booking)
    s.add(offer)


async def _requeue(s, entry: WaitlistEntry, after, *, now: datetime) -> None:  # noqa: ANN001
    if after.to_back:
        entry.position = await waitlist_store.back_of_line(s, entry)
    entry.status, entry.updated_at = after.status.value, now
    s.add(entry)


async def _tell_application(s, entry: WaitlistEntry, status: str, *, booking_id: int, now: datetime) -> None:  # noqa: ANN001
    """A bed offer's answer is also the answer to the season application it came from."""
    if entry.season_id is None:
        return
    for application in await season_store.applications_of(s, entry.season_id, kind="application", person_id=entry.person_id):
        application.status, application.booking_id, application.updated_at = status, booking_id, now
        s.add(application)


async def expire_offers(db: Db, *, now: datetime) -> list[Booking]:
    """The scheduler's sweep: unanswered offers past their deadline expire and pass on; then anything left free
    (a hook that failed, a new bed) is offered to whoever waits for it."""
    expired: list[tuple[Booking, WaitlistEntry]] = []
    async with db.write() as s:
        for offer in await waitlist_store.due_offers(s, now=now):
            booking = await store.get_booking(s, offer.booking_id, for_update=True)
            entry = await waitlist_store.get_entry(s, offer.entry_id)
            booking.status = BookingStatus.EXPIRED.value
            _answered(s, booking, offer, "expired", now=now)
            await _requeue(s, entry, after_expiry(TERMS[WaitKind(entry.kind)]), now=now)
            await _tell_application(s, entry, "expired", booking_id=booking.id, now=now)
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
        in_play = {x.id for x in await season_store.seasons_in_play(s)}
        beds = [b.id for b in await season_store.beds(s)] if in_play & set(season_ids) else []
    for resource_id in [*resource_ids, *beds]:
        await offer_freed_capacity(db, resource_id, now=now)
