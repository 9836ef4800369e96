"""Use cases for garden-bed seasons: create, move through phases, renew, apply, and wait for a bed mid-season."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus, check_well_formed
from booking.seasons import store as season_store
from booking.seasons.places import (
    check_everywhere_in,
    check_season,
    check_somewhere,
    locations_of,
    may_everywhere_in,
    record_created,
    record_phase,
)
from booking.seasons.room_rules import ApplicationWindowClosed
from booking.seasons.rules import (
    DISTRICT_POSTAL_CODES,
    KEEPS_A_BED,
    AlreadyApplied,
    ApplicationKind,
    ApplicationStatus,
    NotABed,
    Phase,
    TakeUp,
    check_household_limit,
    check_phase,
    check_phase_move,
    take_up_of,
    tier_of,
)
from booking.seasons.store import Season, SeasonApplication
from booking.store import Booking
from booking.waitlists import offers
from booking.waitlists import store as waitlist_store
from booking.waitlists.rules import AlreadyWaiting, EntryStatus, WaitKind
from booking.waitlists.service import Place, place_of
from booking.waitlists.store import WaitlistEntry
from infra import outbox
from infra.database import Db
from infra.errors import InvalidInput, NotFound
from people.actor import Actor, Duty
from people.rules import check_postal_code, household_key
from people.store import Person
from resources.rules import ResourceKind
from resources.store import Resource


async def create_season(
    db: Db,
    actor: Actor,
    *,
    name: str,
    start: datetime,
    end: datetime,
    previous_season_id: int | None,
    district_postal_codes: list[str] | None,
    household_limit: int,
    offer_days: int,
    now: datetime,
    applications_close: datetime | None = None,
    draw_at: datetime | None = None,
) -> Season:
    check_somewhere(actor, Duty.SEASON)
    check_well_formed(start, end)
    if applications_close is not None and draw_at is not None and draw_at < applications_close:
        raise InvalidInput("The draw is held after the application deadline", field="draw_at")
    codes = [check_postal_code(c) for c in (district_postal_codes if district_postal_codes is not None else DISTRICT_POSTAL_CODES)]
    async with db.write() as s:
        if previous_season_id is not None:
            await season_store.get_season(s, previous_season_id)
        season = Season(
            name=name,
            start=start,
            end=end,
            previous_season_id=previous_season_id,
            district_postal_codes=codes,
            household_limit=household_limit,
            offer_days=offer_days,
            applications_close=applications_close,
            draw_at=draw_at,
            created_at=now,
            updated_at=now,
        )
        locations = await locations_of(s, season)  # the garden's beds: a garden season is where its beds are
        check_everywhere_in(actor, Duty.SEASON, locations)
        s.add(season)
        await s.flush()
        record_created(s, actor, season, locations, now=now)
        return season


async def get_season(db: Db, season_id: int) -> Season:
    async with db.read() as s:
        return await season_store.get_season(s, season_id)


async def list_seasons(db: Db, *, kind: ResourceKind | None = None) -> list[Season]:
    """Seasons newest first: the garden's, the rooms', or both."""
    query = select(Season).order_by(Season.start.desc(), Season.id.desc())
    async with db.read() as s:
        return list((await s.execute(query if kind is None else query.where(Season.kind == kind.value))).scalars())


async def move_phase(db: Db, actor: Actor, season_id: int, wanted: Phase, *, now: datetime) -> Season:
    """Staff move a season on; opening the renewal window invites last season's growers, closing it lapses the silent."""
    check_somewhere(actor, Duty.SEASON)
    async with db.write() as s:
        season = await season_store.get_season(s, season_id, lock=True)
        locations = await check_season(s, actor, Duty.SEASON, season)
        check_phase_move(Phase(season.phase), wanted)
        record_phase(s, actor, season, wanted, locations, now=now)
        if wanted is Phase.OFFERS:
            raise InvalidInput("Offers go out when the allocation is published: POST …/allocation/publish", phase=str(wanted))
        if season.kind != ResourceKind.GARDEN_BED.value:  # a room season's holders ask to renew; nothing to invite or lapse
            pass
        elif wanted is Phase.RENEWAL:
            await _invite_renewals(s, season, now=now)
        elif Phase(season.phase) is Phase.RENEWAL:
            for row in await season_store.applications_of(s, season.id, kind=ApplicationKind.RENEWAL):
                if row.status == ApplicationStatus.INVITED:
                    row.status, row.reason, row.updated_at = ApplicationStatus.LAPSED.value, "did not confirm in the renewal window", now
                    s.add(row)
        season.phase, season.updated_at = wanted.value, now
        s.add(season)
        return season


def _household(person: Person) -> str:
    try:
        return household_key(person.street, person.postal_code)
    except InvalidInput:  # an address never given: the person is their own household
        return f"person:{person.id}"


async def _renewal_of(s: AsyncSession, season: Season, holding: Booking, person: Person, *, now: datetime) -> SeasonApplication:
    """A renewal is of the household that won the bed: its application's, or its offer's place in line; else the person's."""
    street, code = person.street, person.postal_code
    if renewed := await season_store.application_holding(s, season.previous_season_id, holding.id):
        key, street, code = renewed.household_key, renewed.street, renewed.postal_code
        tier = tier_of(code, season.district_postal_codes)
    elif entry := await season_store.entry_holding(s, season.previous_season_id, holding.id):
        key, tier = entry.household_key, entry.tier  # a place in line keeps no address, only its household and tier
    else:
        key, tier = _household(person), tier_of(code, season.district_postal_codes)
    return SeasonApplication(
        season_id=season.id,
        person_id=person.id,
        kind=ApplicationKind.RENEWAL.value,
        household_key=key,
        street=street,
        postal_code=code,
        status=ApplicationStatus.INVITED.value,
        bed_id=holding.resource_id,
        tier=tier,
        created_at=now,
        updated_at=now,
    )


async def _invite_renewals(s: AsyncSession, season: Season, *, now: datetime) -> None:
    """Holders in good standing (their bed still confirmed at the end of last season) may keep their bed."""
    if season.previous_season_id is None:
        return
    previous = await season_store.get_season(s, season.previous_season_id)
    invited: set[str] = set()
    for holding in [h for h in await season_store.bed_holdings(s, previous) if h.status == BookingStatus.CONFIRMED.value]:
        row = await _renewal_of(s, season, holding, await s.get(Person, holding.person_id), now=now)
        if row.household_key in invited:
            continue
        invited.add(row.household_key)
        s.add(row)
        outbox.record(
            s,
            "renewal_invited",
            person_id=row.person_id,
            at=now,
            season_id=season.id,
            season=season.name,
            bed_id=holding.resource_id,
            confirm_path=f"/api/v1/seasons/{season.id}/renewal",
        )


async def confirm_renewal(db: Db, actor: Actor, season_id: int, *, now: datetime) -> SeasonApplication:
    """A grower invited to renew keeps their bed by confirming inside the renewal window."""
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        check_phase(Phase(season.phase), Phase.RENEWAL)
        rows = [
            r
            for r in await season_store.applications_of(s, season_id, kind=ApplicationKind.RENEWAL, person_id=actor.person_id)
            if r.status == ApplicationStatus.INVITED
        ]
        if not rows:
            raise NotFound("You have no renewal invitation for this season", season_id=season_id)
        rows[0].status, rows[0].reason, rows[0].updated_at = ApplicationStatus.RENEWED.value, "confirmed in the renewal window", now
        s.add(rows[0])
        return rows[0]


def check_taking_applications(season: Season, *, now: datetime) -> None:
    """Applications are made, changed and withdrawn in the application window, until its deadline if it has one."""
    check_phase(Phase(season.phase), Phase.APPLICATIONS)
    if season.applications_close is not None and now >= season.applications_close:
        raise ApplicationWindowClosed(phase=season.phase, closes=season.applications_close.isoformat())


async def check_beds(s: AsyncSession, preferences: dict) -> None:
    for bed_id in preferences.get("beds") or []:
        bed = await s.get(Resource, bed_id)
        if bed is None or bed.kind != ResourceKind.GARDEN_BED.value:
            raise NotABed(bed_id=bed_id)


async def check_household_room(s: AsyncSession, season: Season, key: str, person_id: int) -> None:
    """The household may hold one more bed: counting those it (or the person, under an address since changed) keeps by
    renewal and those it holds or is offered."""
    rows = await season_store.applications_of(s, season.id, kind=ApplicationKind.RENEWAL)
    renewed = sum(1 for r in rows if (r.household_key == key or r.person_id == person_id) and r.status in KEEPS_A_BED)
    check_household_limit(renewed + await season_store.household_beds(s, season, key), season.household_limit)


async def apply(
    db: Db, actor: Actor, season_id: int, *, street: str, postal_code: str, preferences: dict, now: datetime
) -> SeasonApplication:
    """One application per household (its normalised address) and season, inside the application window."""
    key = household_key(street, postal_code)
    code = check_postal_code(postal_code)
    try:
        async with db.write() as s:
            season = await season_store.garden_season(s, season_id)
            check_taking_applications(season, now=now)
            await check_household_room(s, season, key, actor.person_id)
            mine = await season_store.applications_of(s, season_id, kind=ApplicationKind.APPLICATION)
            if any(r.household_key == key or r.person_id == actor.person_id for r in mine):
                raise AlreadyApplied(season_id=season_id)
            await check_beds(s, preferences)
            row = SeasonApplication(
                season_id=season_id,
                person_id=actor.person_id,
                household_key=key,
                street=street.strip(),
                postal_code=code,
                preferences=preferences,
                status=ApplicationStatus.APPLIED.value,
                tier=tier_of(code, season.district_postal_codes),
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            return row
    except IntegrityError as exc:  # a twin from the same household won the race to the unique key
        raise AlreadyApplied(season_id=season_id) from exc


async def applications(db: Db, actor: Actor, season_id: int) -> list[SeasonApplication]:
    """Staff who read at every place of the season see every application and renewal; anyone else their own."""
    async with db.read() as s:
        season = await season_store.get_season(s, season_id)
        reads_all = actor.is_staff and may_everywhere_in(actor, Duty.READ, await locations_of(s, season))
        return await season_store.applications_of(s, season_id, person_id=None if reads_all else actor.person_id)


async def check_duty(db: Db, actor: Actor, season_id: int, duty: Duty) -> None:
    """Refuse unless the actor may do the duty at every place of the season."""
    check_somewhere(actor, duty)
    async with db.read() as s:
        await check_season(s, actor, duty, await season_store.get_season(s, season_id))


async def reads_all(db: Db, actor: Actor, season_id: int) -> bool:
    """The actor reads this season as staff (its audit text and staff notes too): READ at every place of it."""
    if not actor.is_staff:  # deliberate: a resident's answer needs no look at the season's places
        return False
    async with db.read() as s:
        return may_everywhere_in(actor, Duty.READ, await locations_of(s, await season_store.get_season(s, season_id)))


async def join_bed_waitlist(
    db: Db, actor: Actor, season_id: int, *, street: str, postal_code: str, preferences: dict, now: datetime
) -> Place:
    """After allocation, a household without a bed may wait for one: first come, first served within its tier."""
    key = household_key(street, postal_code)
    code = check_postal_code(postal_code)
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        check_phase(Phase(season.phase), Phase.OFFERS, Phase.RUNNING)
        check_household_limit(await season_store.household_beds(s, season, key), season.household_limit)
        await check_beds(s, preferences)
        waiting = (EntryStatus.WAITING.value, EntryStatus.OFFERED.value)
        query = select(WaitlistEntry.id).where(
            WaitlistEntry.season_id == season_id,
            WaitlistEntry.status.in_(waiting),
            (WaitlistEntry.household_key == key) | (WaitlistEntry.person_id == actor.person_id),
        )
        if (await s.execute(query)).scalars().first() is not None:
            raise AlreadyWaiting(season_id=season_id)
        entry = WaitlistEntry(
            kind=WaitKind.GARDEN_BED.value,
            season_id=season_id,
            start=season.start,
            end=season.end,
            person_id=actor.person_id,
            household_key=key,
            preferences=preferences,
            tier=tier_of(code, season.district_postal_codes),
            joined_at=now,
            updated_at=now,
        )
        entry.position = await waitlist_store.back_of_line(s, entry)
        s.add(entry)
        await s.flush()
        entry_id = entry.id
    await offer_free_beds(db, now=now)
    async with db.read() as s:
        return await place_of(s, await waitlist_store.get_entry(s, entry_id))


async def offer_free_beds(db: Db, *, now: datetime) -> None:
    """A new bed, or one nobody holds: offered to whoever waits for it."""
    async with db.read() as s:
        beds = [b.id for b in await season_store.beds(s)]
    for bed_id in beds:
        await offers.offer_freed_capacity(db, bed_id, now=now)


async def holding(s: AsyncSession, season: Season, booking_id: int) -> Booking:
    """A bed held this season, by its booking."""
    for booking in await season_store.bed_holdings(s, season):
        if booking.id == booking_id:
            return booking
    raise NotFound(f"Booking {booking_id} holds no bed this season", booking_id=booking_id)


async def garden_take_up(db: Db, *, places: frozenset[int] | None = None) -> list[TakeUp]:
    """Each season's take-up of the garden beds in use (those at these places; None: all), newest season first."""
    seasons = await list_seasons(db, kind=ResourceKind.GARDEN_BED)
    async with db.read() as s:
        beds = {b.id for b in await season_store.beds(s) if places is None or b.location_id in places}
        held = {season.id: await season_store.bed_holdings(s, season) for season in seasons}
    mine = [(season, [h for h in held[season.id] if places is None or h.resource_id in beds]) for season in seasons]
    return [take_up_of(season, len(beds), holdings) for season, holdings in mine]
