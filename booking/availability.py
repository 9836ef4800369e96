"""Use cases for seeing what is free: a resource's free intervals, and rooms free for an interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from booking import pooled_rules, rules, store, time_rules
from infra.database import Db
from infra.errors import ErrorCode, InvalidInput
from infra.time import Interval
from resources import store as catalogue
from resources.rules import ResourceKind
from resources.store import Resource

MAX_SPAN = timedelta(days=92)


class SpanTooLong(InvalidInput):
    code = ErrorCode.SPAN_TOO_LONG
    title = "Ask for at most 92 days at a time"


@dataclass(frozen=True)
class Availability:
    resource: Resource
    span: Interval
    free: list[Interval]
    units: list[tuple[Interval, int]] | None = None  # pooled stock: free units piece by piece


def checked_span(start: datetime, end: datetime) -> Interval:
    rules.check_well_formed(start, end)
    if end - start > MAX_SPAN:
        raise SpanTooLong(days=(end - start).days)
    return Interval(start, end)


async def free_intervals(db: Db, resource_id: int, start: datetime, end: datetime, *, now: datetime) -> Availability:
    """Windows minus closures, holidays and bookings with their buffers, trimmed by lead time and horizon."""
    span = checked_span(start, end)
    async with db.read() as s:
        resource = await catalogue.get_resource(s, resource_id)
        policy = await catalogue.policy_of(s, resource)
        wide = Interval(span.start - policy.buffer_after - policy.max_duration, span.end + policy.buffer_before + policy.max_duration)
        active = await store.active_blocks(s, resource.id, wide)
    if resource.kind == ResourceKind.EQUIPMENT.value:
        units = pooled_rules.units_free(resource.stock or 0, [(Interval(b.block_start, b.block_end), b.quantity) for b in active], span)
        return Availability(resource, span, time_rules.free_intervals(policy, span, [], now=now), units)
    taken = [Interval(b.block_start, b.block_end) for b in active]
    return Availability(resource, span, time_rules.free_intervals(policy, span, taken, now=now))


async def free_rooms(
    db: Db, start: datetime, end: datetime, *, seats: int | None, features: frozenset[str], now: datetime
) -> list[Resource]:
    """Rooms (not retired) with enough seats and the wanted features that could take this exact interval."""
    span = checked_span(start, end)
    async with db.read() as s:
        query = select(Resource).where(Resource.kind == ResourceKind.ROOM.value, Resource.retired_at.is_(None))
        candidates = [
            r
            for r in (await s.execute(query.order_by(Resource.name))).scalars()
            if features <= set(r.features) and (seats is None or (r.capacity or 0) >= seats)
        ]
        free = []
        for room in candidates:
            policy = await catalogue.policy_of(s, room)
            taken = [
                Interval(b.block_start, b.block_end)
                for b in await store.active_blocks(s, room.id, rules.block_of(policy, span.start, span.end))
            ]
            if any(i.contains(span) for i in time_rules.free_intervals(policy, span, taken, now=now)):
                free.append(room)
    return free
