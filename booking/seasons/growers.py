"""Use cases of a garden application while its window is open (change it, withdraw it), a grower's beds, unanswered offers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.rules import BookingStatus
from booking.seasons import store as season_store
from booking.seasons.rules import AlreadyApplied, ApplicationKind, ApplicationStatus, tier_of
from booking.seasons.service import check_beds, check_household_room, check_taking_applications
from booking.seasons.store import Season, SeasonApplication
from booking.store import Booking
from booking.waitlists.rules import OfferOutcome
from booking.waitlists.store import WaitlistEntry, WaitlistOffer
from infra.database import Db
from infra.errors import NotFound
from people.actor import Actor
from people.rules import check_postal_code, household_key


async def _own_application(s: AsyncSession, actor: Actor, season: Season) -> SeasonApplication:
    """The actor's application not yet drawn: the only one they may change or withdraw."""
    rows = await season_store.applications_of(s, season.id, kind=ApplicationKind.APPLICATION, person_id=actor.person_id)
    for row in rows:
        if row.status == ApplicationStatus.APPLIED:
            return row
    raise NotFound("You have no application in this season", season_id=season.id)


async def change_application(
    db: Db, actor: Actor, season_id: int, *, street: str, postal_code: str, preferences: dict, now: datetime
) -> SeasonApplication:
    """Another address or other wishes, until the deadline; a new address is a new household, checked as on applying."""
    key = household_key(street, postal_code)
    code = check_postal_code(postal_code)
    try:
        async with db.write() as s:
            season = await season_store.garden_season(s, season_id)
            check_taking_applications(season, now=now)
            row = await _own_application(s, actor, season)
            if key != row.household_key:
                others = await season_store.applications_of(s, season_id, kind=ApplicationKind.APPLICATION)
                if any(r.household_key == key for r in others if r.id != row.id):
                    raise AlreadyApplied(season_id=season_id)
                await check_household_room(s, season, key, actor.person_id)
            await check_beds(s, preferences)
            row.household_key, row.street, row.postal_code, row.preferences = key, street.strip(), code, preferences
            row.tier, row.updated_at = tier_of(code, season.district_postal_codes), now
            s.add(row)
            await s.flush()
            return row
    except IntegrityError as exc:  # the household's own application was made meanwhile
        raise AlreadyApplied(season_id=season_id) from exc


async def withdraw_application(db: Db, actor: Actor, season_id: int, *, now: datetime) -> None:
    """Before the draw nothing rests on an application: withdrawn, it is gone, and the household may apply again."""
    async with db.write() as s:
        season = await season_store.garden_season(s, season_id)
        check_taking_applications(season, now=now)
        await s.delete(await _own_application(s, actor, season))


async def beds_held(db: Db, actor: Actor) -> dict[int, list[Booking]]:
    """The beds the actor holds (accepted, not merely offered) in each season whose beds are out, by season id."""
    async with db.read() as s:
        found = {}
        for season in await season_store.seasons_in_play(s):
            mine = [b for b in await season_store.bed_holdings(s, season) if b.person_id == actor.person_id]
            found[season.id] = [b for b in mine if b.status == BookingStatus.CONFIRMED.value]
        return found


async def unanswered_offers(db: Db, season_id: int) -> int:
    """Offers of the season's beds still open: staff are told how many before they move the season on."""
    query = (
        select(func.count())
        .select_from(WaitlistOffer)
        .join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
        .where(WaitlistEntry.season_id == season_id, WaitlistOffer.outcome == OfferOutcome.OPEN.value)
    )
    async with db.read() as s:
        return int((await s.execute(query)).scalar_one())
