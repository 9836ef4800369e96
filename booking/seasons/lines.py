"""What offers need to know of seasons: registered with the waitlists on import, so waitlists import no season."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking.seasons import store as season_store
from booking.seasons.rules import ApplicationKind, ApplicationStatus, check_household_limit
from booking.seasons.store import Season
from booking.waitlists import offers
from booking.waitlists.rules import bed_suits
from booking.waitlists.store import WaitlistEntry
from resources.store import Resource


class SeasonBeds:
    """The beds of live seasons, their household limit and offer terms, and the applications their offers answer."""

    async def in_play(self, s: Any) -> dict[int, Season]:
        return {x.id: x for x in await season_store.seasons_in_play(s)}

    async def bed_fits(self, s: Any, bed: Resource, season: Season, entry: WaitlistEntry) -> bool:
        # The household limit is checked again when the offer is accepted.
        if not bed_suits(entry.preferences, bed.id, list(bed.features)):
            return False
        return await season_store.household_beds(s, season, entry.household_key) < season.household_limit

    def hold(self, season: Season) -> timedelta:
        return timedelta(days=season.offer_days)

    async def check_may_accept(self, s: Any, entry: WaitlistEntry, booking_id: int) -> None:
        season = await season_store.get_season(s, entry.season_id)
        beds = await season_store.household_beds(s, season, entry.household_key, excluding=booking_id)
        check_household_limit(beds, season.household_limit)

    async def answered(self, s: Any, entry: WaitlistEntry, status: str, *, booking_id: int, now: datetime) -> None:
        for application in await season_store.applications_of(
            s, entry.season_id, kind=ApplicationKind.APPLICATION, person_id=entry.person_id
        ):
            application.status, application.booking_id, application.updated_at = ApplicationStatus(status).value, booking_id, now
            s.add(application)

    async def beds(self, s: Any) -> list[int]:
        return [b.id for b in await season_store.beds(s)]


offers.register_season_lines(SeasonBeds())
