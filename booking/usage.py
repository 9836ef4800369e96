"""Use cases for utilisation: a resource's, a location's rooms' and each item's use per week, read from the bookings."""

from __future__ import annotations

import dataclasses
from datetime import date

from booking.service import list_bookings
from booking.usage_rules import ItemUse, Week, item_use, mondays_from, summed, taken_by, weekly_use
from infra.database import Db
from people.actor import Actor, Duty
from resources import rules as resource_rules
from resources import service as catalogue
from resources.rules import ResourceKind
from resources.store import Location, Resource


async def use_of(db: Db, actor: Actor, resource_id: int, first: date, count: int) -> tuple[Resource, list[Week]]:
    """A resource's booked hours against its bookable hours, for count weeks from the Monday first (staff only)."""
    detail = await catalogue.get_resource(db, resource_id)
    # The stored policy knows no closures; given them, the days a resource is closed are no bookable hours.
    closures = tuple(resource_rules.Closure(c.start, c.end, c.reason) for c in detail.closures)
    policy = dataclasses.replace(detail.policy, closures=closures)
    rows = await list_bookings(db, actor, resource_id=resource_id)
    pooled = detail.resource.kind == ResourceKind.EQUIPMENT
    units = (detail.resource.stock or 0) if pooled else 1
    return detail.resource, weekly_use(policy, units, taken_by(rows), mondays_from(first, count), pooled=pooled)


async def location_use(db: Db, actor: Actor, location_id: int, first: date, count: int) -> tuple[Location, list[Week]]:
    """A location's rooms added up, week by week."""
    location = await catalogue.get_location(db, location_id)
    rooms = await catalogue.list_resources(db, kind="room", location_id=location_id)
    per_room = [(await use_of(db, actor, room.id, first, count))[1] for room in rooms]
    return location, summed(per_room, mondays_from(first, count))


async def loans_per_item(db: Db, actor: Actor, first: date, count: int) -> list[tuple[Resource, ItemUse]]:
    """Each equipment item's loans and unit-hours lent, week by week, and the share of its stock lent: the items at the
    places the actor reads."""
    mondays = mondays_from(first, count)
    found = []
    for item in await catalogue.list_resources(db, kind="equipment"):
        if not actor.may(Duty.READ, item.location_id):
            continue
        rows = await list_bookings(db, actor, resource_id=item.id)
        found.append((item, item_use(item.stock or 0, taken_by(rows), mondays)))
    return found
