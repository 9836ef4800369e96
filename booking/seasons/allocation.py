"""Use cases for a season's allocation: preview a seeded draw, adjust it with reasons, publish it; beds given back."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booking import store
from booking.engine import NewBooking, check_may_act_on
from booking.lifecycle import mark_cancelled
from booking.rules import Booker, BookingStatus, NotCancellable, ReasonRequired
from booking.seasons import store as season_store
from booking.seasons.places import check_season, check_somewhere, record_phase
from booking.seasons.rules import (
    DRAWN,
    IN_DRAW,
    Applicant,
    ApplicationKind,
    ApplicationStatus,
    Bed,
    BedTaken,
    HouseholdHasBed,
    NotABed,
    NotPreviewed,
    Phase,
    allocate,
    check_phase,
)
from booking.seasons.service import holding
from booking.seasons.store import Season, SeasonApplication
from booking.store import Booking
from booking.waitlists import offers
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import TERMS, WaitKind, offer_deadline
from booking.waitlists.store import WaitlistEntry
from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from people.actor import Actor, Duty
from resources import store as catalogue
from resources.rules import BookerKind


def _applicant(row: SeasonApplication) -> Applicant:
    prefs = row.preferences or {}
    return Applicant(
        row.id,
        row.household_key,
        row.tier,
        tuple(prefs.get("beds") or ()),
        bool(prefs.get("raised")),
        bool(prefs.get("any", True)),
        row.bed_id if row.kind == ApplicationKind.RENEWAL else None,
    )


async def preview(db: Db, actor: Actor, season_id: int, *, seed: int | None, now: datetime) -> tuple[Season, list[SeasonApplication]]:
    """Draw (again) from a seed: the same seed and applications give the same result; every row says why."""
    check_somewhere(actor, Duty.SEASON)
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        await check_season(s, actor, Duty.SEASON, season)
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        season.seed = secrets.randbelow(2**31) if seed is None else seed
        rows = [r for r in await season_store.applications_of(s, season_id) if r.status in IN_DRAW[r.kind]]
        beds = [Bed(b.id, "raised" in (b.features or [])) for b in await season_store.beds(s)]
        placements = allocate([_applicant(r) for r in rows], beds, seed=season.seed, household_limit=season.household_limit)
        for row, placed in zip(rows, placements, strict=True):
            row.redrawn(placed, now=now)
            s.add(row)
        season.updated_at = now
        s.add(season)
        return season, rows


async def adjust(
    db: Db,
    actor: Actor,
    season_id: int,
    application_id: int,
    *,
    bed_id: int | None,
    reason: str,
    message_to_resident: str = "",
    now: datetime,
) -> SeasonApplication:
    """Staff give an application another bed (or none), saying why; the reason stays on the record for staff, and the
    resident hears only the outcome and what staff chose to write to them."""
    check_somewhere(actor, Duty.SEASON)
    if not reason.strip():
        raise ReasonRequired("An adjustment of the allocation must say why")
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        await check_season(s, actor, Duty.SEASON, season)
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        if season.seed is None:
            raise NotPreviewed()
        row = await season_store.get_application(s, season_id, application_id)
        if bed_id is not None:
            await _check_may_take(s, season, row, bed_id)
        before = _placed(row)
        row.adjust(bed_id, by=actor.person_id, note=reason.strip(), message=message_to_resident.strip(), now=now)
        s.add(row)
        await _record(s, Action.ALLOCATION_ADJUSTED, actor, season, row, before, reason=reason.strip(), now=now)
        return row


def _placed(row: SeasonApplication) -> dict:
    """What the audit trail keeps of an application's place in the allocation (by ids: no names, no address)."""
    return {"application_id": row.id, "status": row.status, "bed_id": row.bed_id, "outcome": row.outcome, "lottery_rank": row.lottery_rank}


async def _record(
    s: AsyncSession, action: Action, actor: Actor, season: Season, row: SeasonApplication, before: dict, *, reason: str, now: datetime
) -> None:
    """One entry per application: filed under the season, about its applicant, at the bed's place (or none without a bed)."""
    bed_id = row.bed_id or before.get("bed_id")
    location_id = (await catalogue.get_resource(s, bed_id)).location_id if bed_id is not None else None
    after = _placed(row) | ({"booking_id": row.booking_id, "seed": season.seed} if action is Action.ALLOCATION_PUBLISHED else {})
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=season.id, location_id=location_id, subject_id=row.person_id,
        reason=reason, before=before, after=after,
    )  # fmt: skip


async def _check_may_take(s: AsyncSession, season: Season, row: SeasonApplication, bed_id: int) -> None:
    """A bed of the season that no other allocation (renewals included) holds, within the household limit."""
    others = [r for r in await season_store.applications_of(s, season.id) if r.id != row.id and r.status == ApplicationStatus.ALLOCATED]
    if bed_id not in {b.id for b in await season_store.beds(s)}:
        raise NotABed(bed_id=bed_id)
    if holder := next((r for r in others if r.bed_id == bed_id), None):
        raise BedTaken(bed_id=bed_id, application_id=holder.id)
    if sum(1 for r in others if r.household_key == row.household_key) >= season.household_limit:
        raise HouseholdHasBed(limit=season.household_limit)


async def publish(db: Db, actor: Actor, season_id: int, *, now: datetime) -> tuple[Season, list[SeasonApplication]]:
    """Renewed growers keep their beds, winners get held offers, the rest wait in lottery order; everyone hears."""
    check_somewhere(actor, Duty.SEASON)
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        locations = await check_season(s, actor, Duty.SEASON, season)
        check_phase(Phase(season.phase), Phase.ALLOCATION)
        if season.seed is None:
            raise NotPreviewed()
        rows = [r for r in await season_store.applications_of(s, season_id) if r.status in DRAWN]
        deadline = offer_deadline(replace(TERMS[WaitKind.GARDEN_BED], hold=timedelta(days=season.offer_days)), now=now)
        for row in sorted(rows, key=lambda r: (r.lottery_rank or 0, r.id)):
            before = _placed(row)
            await _publish_one(s, season, row, deadline, now=now)
            await _record(s, Action.ALLOCATION_PUBLISHED, actor, season, row, before, reason=row.reason, now=now)
        record_phase(s, actor, season, Phase.OFFERS, locations, now=now)
        season.phase, season.published_at, season.updated_at = Phase.OFFERS.value, now, now
        s.add(season)
        return season, rows


async def _publish_one(s: AsyncSession, season: Season, row: SeasonApplication, deadline: datetime, *, now: datetime) -> None:
    entry = WaitlistEntry(
        kind=WaitKind.GARDEN_BED.value,
        season_id=season.id,
        start=season.start,
        end=season.end,
        person_id=row.person_id,
        household_key=row.household_key,
        preferences=row.preferences or {},
        tier=row.tier,
        position=row.lottery_rank or 0,
        joined_at=now,
        updated_at=now,
    )
    # The resident's mail tells the outcome by its code; the audit text and staff notes stay on the record.
    result = {
        "season_id": season.id,
        "season": season.name,
        "application_id": row.id,
        "reason_code": row.outcome,
        "reason_params": row.outcome_params or {},
        "message_to_resident": row.message_to_resident,
    }
    if row.status == ApplicationStatus.WAITLISTED:
        s.add(entry)
        await s.flush()
        outbox.record(s, "season_result", person_id=row.person_id, at=now, outcome="waitlisted", **result)
        return
    booking = await _hold_bed(s, season, row, now=now)
    if row.kind == ApplicationKind.RENEWAL:
        booking.status, row.status = BookingStatus.CONFIRMED.value, ApplicationStatus.RENEWED.value
        outbox.record(
            s, "season_result", person_id=row.person_id, booking_id=booking.id, at=now, outcome="renewed", bed_id=row.bed_id, **result
        )
    else:
        await offers.open_offer(s, booking, entry, deadline, now=now)
        outbox.record(
            s,
            "season_result",
            person_id=row.person_id,
            booking_id=booking.id,
            at=now,
            outcome="offered",
            bed_id=row.bed_id,
            **{**result, **offers.offer_details(booking.id, entry, deadline)},
        )
    row.booking_id, row.updated_at = booking.id, now
    s.add(booking)
    s.add(row)


async def _hold_bed(s: AsyncSession, season: Season, row: SeasonApplication, *, now: datetime) -> Booking:
    """The bed held for the whole season: invariant 3 is then the overlap check (and PostgreSQL's constraint)."""
    bed = await store.locked_resource(s, row.bed_id)
    policy = await catalogue.policy_of(s, bed)
    wanted = NewBooking(bed.id, season.start, season.end, season.name)
    return await offers.hold(s, bed, policy, Booker(row.person_id, BookerKind.RESIDENT), wanted, now=now)


async def give_back(db: Db, actor: Actor, season_id: int, booking_id: int, *, reason: str, revoke: bool, now: datetime) -> Booking:
    """A grower gives their bed back, or staff revoke it with a reason; the bed goes to the season's waitlist."""
    if revoke:
        check_somewhere(actor, Duty.SEASON)
        if not reason.strip():
            raise ReasonRequired("Revoking a bed must say why")
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        check_phase(Phase(season.phase), Phase.OFFERS, Phase.RUNNING)
        booking = await holding(s, season, booking_id)
        booking = await store.get_booking(s, booking.id, for_update=True)
        if revoke:  # a season manager revokes a bed of their season's; giving one's own back is the grower's
            await check_season(s, actor, Duty.SEASON, season)
        else:
            check_may_act_on(actor, booking)
        if BookingStatus(booking.status) not in BookingStatus.CANCELLABLE:
            raise NotCancellable(status=booking.status)
        before = {"status": booking.status}
        mark_cancelled(s, booking, actor, reason or ("revoked" if revoke else "given back"), now=now)
        if revoke:
            audit.record(
                s, Action.BOOKING_CANCELLED, actor_id=actor.person_id, at=now, object_id=booking.id, subject_id=booking.person_id,
                location_id=(await catalogue.get_resource(s, booking.resource_id)).location_id, reason=reason.strip(),
                before=before, after={"status": booking.status, "season_id": season.id},
            )  # fmt: skip
    await offers.offer_freed_capacity(db, booking.resource_id, now=now)
    return booking


async def waitlist_of(db: Db, season_id: int) -> list[WaitlistEntry]:
    async with db.read() as s:
        return await waitlist_store.entries_of(s, season_id=season_id)
