"""Where a season is, for the staff checks and its audit entries: the locations of its resources (the garden beds, or
the round's rooms).

A season spanning several places is a staff member's only when their role reaches every one of them (a season
manager granted everywhere covers every season); one with no place yet (a garden without beds) needs the role everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.seasons.rules import Phase
from booking.seasons.store import Season
from infra import audit
from infra.audit import Action
from people.actor import Actor, Duty, check_may
from resources.rules import ResourceKind
from resources.store import Resource


async def locations_of(s: AsyncSession, season: Season) -> frozenset[int]:
    """The locations of a season's resources: the round's rooms, or every garden bed still in use."""
    if season.kind == ResourceKind.ROOM.value:
        query = select(Resource.location_id).where(Resource.id.in_([int(r) for r in season.rooms or []]))
    else:
        query = select(Resource.location_id).where(Resource.kind == ResourceKind.GARDEN_BED.value, Resource.retired_at.is_(None))
    return frozenset((await s.execute(query.distinct())).scalars())


async def rooms_locations(s: AsyncSession, room_ids: list[int]) -> frozenset[int]:
    query = select(Resource.location_id).where(Resource.id.in_(room_ids)).distinct()
    return frozenset((await s.execute(query)).scalars())


def may_everywhere_in(actor: Actor, duty: Duty, locations: frozenset[int]) -> bool:
    return all(actor.may(duty, location_id) for location_id in sorted(locations) or [None])


def check_everywhere_in(actor: Actor, duty: Duty, locations: frozenset[int]) -> None:
    """Refuse (at the first place the role does not reach) unless the actor may do the duty at all of them."""
    for location_id in sorted(locations) or [None]:
        check_may(actor, duty, location_id)


def check_somewhere(actor: Actor, duty: Duty) -> None:
    """Before anything is read: a resident is `staff_only`, a staff member whose roles allow the duty nowhere
    `not_at_this_location`; whether their places cover this season is asked once it is read."""
    if actor.places(duty) == frozenset():
        check_may(actor, duty, None)


async def check_season(s: AsyncSession, actor: Actor, duty: Duty, season: Season) -> frozenset[int]:
    """The season's locations, once the actor is known to may the duty at every one of them."""
    locations = await locations_of(s, season)
    check_everywhere_in(actor, duty, locations)
    return locations


def one_place(locations: frozenset[int]) -> int | None:
    """The location an audit entry is filed under: the season's one place, or none when it spans several."""
    return next(iter(locations)) if len(locations) == 1 else None


def record_created(s: AsyncSession, actor: Actor, season: Season, locations: frozenset[int], *, now: datetime) -> None:
    """A season set up, in the audit trail: its kind, term and (for a round) rooms."""
    after = {"name": season.name, "kind": season.kind, "start": season.start, "end": season.end, "phase": season.phase}
    after |= {"rooms": season.rooms} if season.kind == ResourceKind.ROOM.value else {"household_limit": season.household_limit}
    audit.record(
        s, Action.SEASON_CREATED, actor_id=actor.person_id, at=now, object_id=season.id, location_id=one_place(locations), after=after
    )


def record_phase(s: AsyncSession, actor: Actor, season: Season, wanted: Phase, locations: frozenset[int], *, now: datetime) -> None:
    audit.record(
        s, Action.SEASON_PHASE, actor_id=actor.person_id, at=now, object_id=season.id, location_id=one_place(locations),
        before={"phase": season.phase}, after={"phase": wanted.value},
    )  # fmt: skip
