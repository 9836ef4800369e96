"""Catalogue use cases: browse it, and let staff maintain resources and their closures."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from infra import audit
from infra.audit import Action
from infra.database import Db
from infra.errors import Conflict, ErrorCode, InvalidInput
from people.actor import Actor, Duty, check_may
from resources import rules, store
from resources.catalogue import FEATURES
from resources.catalogue_values import kind_defaults
from resources.rules import Policy, ResourceKind, validate_policy
from resources.store import Closure, Kit, KitItem, Location, Resource


class KeyTaken(Conflict):
    code = ErrorCode.KEY_TAKEN
    title = "Another resource already has this key"


# Which count belongs to which kind: a room seats people, equipment has units, a bed has a number.
COUNT_OF = {ResourceKind.ROOM: "capacity", ResourceKind.EQUIPMENT: "stock", ResourceKind.GARDEN_BED: "number"}
CHANGEABLE = frozenset({"name", "description", "location_id", "capacity", "stock", "number", "features", "in_maintenance", "policy"})


@dataclass(frozen=True)
class ResourceDetail:
    resource: Resource
    policy: Policy
    closures: tuple[Closure, ...]


@dataclass(frozen=True)
class NewResource:
    key: str
    location_id: int
    kind: ResourceKind
    name: str
    description: str = ""
    capacity: int | None = None
    stock: int | None = None
    number: int | None = None
    features: frozenset[str] = frozenset()
    policy: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # overrides of the kind's defaults


# ---------------------------------------------------------------- browse


async def list_locations(db: Db) -> list[Location]:
    async with db.read() as s:
        return await store.list_locations(s)


async def get_location(db: Db, location_id: int) -> Location:
    async with db.read() as s:
        return await store.get_location(s, location_id)


def _kind(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ResourceKind(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a kind: use one of {', '.join(ResourceKind)}", field="kind") from None


async def list_resources(
    db: Db,
    *,
    kind: str | None = None,
    location_id: int | None = None,
    feature: str | list[str] | None = None,
    min_capacity: int | None = None,
    include_retired: bool = False,
) -> list[Resource]:
    """Resources matching every filter given; with several features, those that have them all."""
    wanted = {feature} if isinstance(feature, str) else set(feature or ())
    async with db.read() as s:
        found = await store.find_resources(
            s, kind=_kind(kind), location_id=location_id, min_capacity=min_capacity, include_retired=include_retired
        )
    # Features live in a JSON list; a district's catalogue is small enough to filter here on both backends.
    return [r for r in found if wanted <= set(r.features)]


async def _detail(s: AsyncSession, resource: Resource) -> ResourceDetail:
    closures = (await store.closures_by_resource(s, [resource.id])).get(resource.id, [])
    return ResourceDetail(resource, store.policy_from_json(resource.policy), tuple(closures))


async def get_resource(db: Db, resource_id: int) -> ResourceDetail:
    async with db.read() as s:
        return await _detail(s, await store.get_resource(s, resource_id))


async def list_kits(db: Db) -> list[tuple[Kit, list[tuple[KitItem, Resource]]]]:
    async with db.read() as s:
        return await store.list_kits(s)


# ---------------------------------------------------------------- staff maintenance


def _check_resource(resource: Resource) -> None:
    """A room seats people, equipment has a stock, a bed may have a number; no kind carries another's count."""
    kind = ResourceKind(resource.kind)
    for name in COUNT_OF.values():
        if name != COUNT_OF[kind] and getattr(resource, name) is not None:
            raise InvalidInput(f"A {kind} has no {name}", field=name)
    if kind != ResourceKind.GARDEN_BED and getattr(resource, COUNT_OF[kind]) is None:
        raise InvalidInput(f"A {kind} needs a {COUNT_OF[kind]}", field=COUNT_OF[kind])
    if unknown := sorted(set(resource.features) - FEATURES):
        raise InvalidInput(f"Unknown features {unknown}: use some of {', '.join(sorted(FEATURES))}", field="features")


def _policy(base: Policy, changes: Mapping[str, Any]) -> Policy:
    # Closures are added and removed one by one, never replaced through the policy.
    rule_names = {f.name for f in dataclasses.fields(Policy)} - {"closures"}
    if unknown := sorted(set(changes) - rule_names):
        raise InvalidInput(f"Unknown policy fields {unknown}", field="policy")
    policy = dataclasses.replace(base, **changes)
    validate_policy(policy)
    return policy


async def create_resource(db: Db, actor: Actor, spec: NewResource, *, now: datetime) -> ResourceDetail:
    """Staff who keep the catalogue at the location add a resource there."""
    check_may(actor, Duty.CATALOGUE, spec.location_id)
    async with db.write() as s:
        location = await store.get_location(s, spec.location_id)
        if await store.by_key(s, Resource, [spec.key]):
            raise KeyTaken(f"A resource already has the key {spec.key!r}", field="key")
        hours = tuple(store.window_from_json(w) for w in location.opening_hours)
        policy = _policy(kind_defaults(spec.kind, hours), spec.policy)
        resource = Resource(
            key=spec.key,
            location_id=location.id,
            kind=str(spec.kind),
            name=spec.name,
            description=spec.description,
            capacity=spec.capacity,
            stock=spec.stock,
            number=spec.number,
            features=sorted(spec.features),
            policy=store.policy_to_json(policy),
            updated_at=now,
        )
        _check_resource(resource)
        s.add(resource)
        await s.flush()
        after = {name: getattr(resource, name) for name in ("key", "kind", "name", "location_id", *COUNT_OF.values(), "features", "policy")}
        audit.record(
            s, Action.RESOURCE_CREATED, actor_id=actor.person_id, at=now, object_id=resource.id, location_id=location.id, after=after
        )
        return await _detail(s, resource)


def check_changeable(changes: Mapping[str, Any]) -> None:
    """A resource's key and kind stay, as bookings and the catalogue rely on them."""
    if unknown := sorted(set(changes) - CHANGEABLE):
        raise InvalidInput(f"These cannot be changed: {unknown}", field=unknown[0])


# Closing, retiring and changing a resource may cancel bookings of it, which is booking's to decide
# (`booking.closures`): these take its write transaction and the resource it has locked.


async def change_resource(
    s: AsyncSession, resource: Resource, changes: Mapping[str, Any], *, now: datetime, actor_id: int | None = None, reason: str = ""
) -> None:
    """Staff's changes to a resource's details or rules, checked and applied, and kept in the audit trail by who made
    them (`actor_id`; the caller has checked they may): the details changed, and the policy's rules changed, each with
    the values before and after."""
    check_changeable(changes)
    values = {k: v for k, v in changes.items() if k != "policy"}
    if "location_id" in values:
        await store.get_location(s, values["location_id"])
    if "features" in values:
        values["features"] = sorted(values["features"])
    if "policy" in changes:
        values["policy"] = store.policy_to_json(_policy(store.policy_from_json(resource.policy), changes["policy"]))
    before = {name: getattr(resource, name) for name in values}
    if store.apply_changes(resource, values):
        _check_resource(resource)
        resource.updated_at = now
        _record_changes(s, resource, before, actor_id=actor_id, reason=reason, now=now)


def _record_changes(s: AsyncSession, resource: Resource, before: dict, *, actor_id: int | None, reason: str, now: datetime) -> None:
    """One entry for the details changed, one for the rules: only the fields that changed, before and after. A move
    to another location is filed under the new one (its old one is in `before`)."""
    old_policy, new_policy = before.pop("policy", None), resource.policy
    details = {k: (v, getattr(resource, k)) for k, v in before.items() if v != getattr(resource, k)}
    names = sorted(set(old_policy or {}) | set(new_policy)) if old_policy is not None else []
    rules_changed = {k: (old_policy.get(k), new_policy.get(k)) for k in names if old_policy.get(k) != new_policy.get(k)}
    for action, changed in ((Action.RESOURCE_CHANGED, details), (Action.POLICY_CHANGED, rules_changed)):
        if changed:
            audit.record(
                s, action, actor_id=actor_id, at=now, object_id=resource.id, location_id=resource.location_id, reason=reason.strip(),
                before={k: b for k, (b, _) in changed.items()}, after={k: a for k, (_, a) in changed.items()},
            )  # fmt: skip


def retire(resource: Resource, *, now: datetime) -> None:
    """A retired resource takes no new bookings and leaves the lists; it stays for the history that names it."""
    if resource.retired_at is None:
        resource.retired_at = resource.updated_at = now


def closure_of(start: datetime, end: datetime, reason: str) -> rules.Closure:
    for field_name, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput("Give the time with its offset, like 2026-12-21T00:00+01:00", field=field_name)
    return rules.Closure(start=start, end=end, reason=reason)


def check_closure(resource: Resource, closure: rules.Closure) -> None:
    """The closure agrees with the resource's rules (it ends after it starts); nothing is written."""
    validate_policy(dataclasses.replace(store.policy_from_json(resource.policy), closures=(closure,)))


async def save_closure(s: AsyncSession, resource: Resource, closure: rules.Closure, *, now: datetime) -> Closure:
    row = Closure(resource_id=resource.id, start=closure.start, end=closure.end, reason=closure.reason)
    s.add(row)
    resource.updated_at = now
    await s.flush()
    return row


async def detail_of(s: AsyncSession, resource: Resource) -> ResourceDetail:
    return await _detail(s, resource)


async def remove_closure(db: Db, actor: Actor, resource_id: int, closure_id: int, *, now: datetime) -> None:
    """Staff who close at the resource's place lift a closure of it."""
    async with db.write() as s:
        resource = await store.get_resource(s, resource_id, lock=True)
        check_may(actor, Duty.CLOSE, resource.location_id)
        closure = await store.get_closure(s, resource_id, closure_id)
        before = {"start": closure.start, "end": closure.end, "reason": closure.reason}
        await s.delete(closure)
        resource.updated_at = now
        audit.record(
            s, Action.CLOSURE_REMOVED, actor_id=actor.person_id, at=now, object_id=closure_id, location_id=resource.location_id,
            before={"resource_id": resource.id, **before},
        )  # fmt: skip
