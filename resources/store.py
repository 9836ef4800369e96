"""Tables and queries for the catalogue: locations, resources, their policies, closures and kits."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import JSON, Column, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from infra.database import UtcDateTime
from infra.errors import NotFound
from infra.rows import get_or_404
from resources import rules
from resources.rules import Policy, WeeklyWindow

if TYPE_CHECKING:
    from resources.catalogue import LocationSpec, ResourceSpec


class Location(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=4)
    city: str = Field(default="Drammen", max_length=100)
    description: str = ""
    opening_hours: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    step_free_access: bool = False
    accessible_toilet: bool = False
    hearing_loop: bool = False
    access_notes: str = ""


class Resource(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    location_id: int = Field(foreign_key="location.id", index=True)
    kind: str = Field(max_length=12, index=True)
    name: str = Field(max_length=200)
    description: str = ""
    capacity: int | None = None
    stock: int | None = None
    number: int | None = None
    features: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    policy: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    in_maintenance: bool = False
    retired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Closure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    start: datetime = Field(sa_type=UtcDateTime)
    end: datetime = Field(sa_type=UtcDateTime)
    reason: str = Field(default="", max_length=200)


class Kit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    location_id: int = Field(foreign_key="location.id")


class KitItem(SQLModel, table=True):
    __tablename__ = "kit_item"
    __table_args__ = (UniqueConstraint("kit_id", "resource_id"),)
    id: int | None = Field(default=None, primary_key=True)
    kit_id: int = Field(foreign_key="kit.id", index=True)
    resource_id: int = Field(foreign_key="resource.id")
    quantity: int = 1


def _encode(value: Any) -> Any:
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, (frozenset, set)):
        return sorted(_encode(v) for v in value)
    if isinstance(value, (time, date)):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def window_to_json(window: WeeklyWindow) -> dict:
    return _encode(window)


def window_from_json(data: dict) -> WeeklyWindow:
    return WeeklyWindow(
        weekdays=frozenset(data["weekdays"]),
        start=time.fromisoformat(data["start"]),
        end=time.fromisoformat(data["end"]),
        valid_from=date.fromisoformat(data["valid_from"]) if data.get("valid_from") else None,
        valid_until=date.fromisoformat(data["valid_until"]) if data.get("valid_until") else None,
    )


def policy_to_json(policy: Policy) -> dict:
    """Closures live in their own table; everything else of the policy is one JSON document."""
    data = _encode(policy)
    data.pop("closures", None)
    return data


def policy_from_json(data: dict, closures: tuple[rules.Closure, ...] = ()) -> Policy:
    defaults = Policy()
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Policy):
        if f.name not in data:
            continue
        current, raw = getattr(defaults, f.name), data[f.name]
        if isinstance(current, timedelta):
            values[f.name] = timedelta(seconds=raw)
        elif f.name == "windows":
            values[f.name] = tuple(window_from_json(w) for w in raw)
        elif f.name == "bookable_by":
            values[f.name] = frozenset(rules.BookerKind(v) for v in raw)
        elif f.name != "closures":
            values[f.name] = raw
    return dataclasses.replace(defaults, closures=closures, **values)


async def closures_of(s: AsyncSession, resource_id: int, *, until: datetime | None = None) -> tuple[rules.Closure, ...]:
    query = select(Closure).where(Closure.resource_id == resource_id)
    rows = (await s.execute(query.order_by(Closure.start))).scalars()
    return tuple(rules.Closure(start=c.start, end=c.end, reason=c.reason) for c in rows)


async def any_location(s: AsyncSession) -> bool:
    return (await s.execute(select(Location.id).limit(1))).first() is not None


def apply_changes(row: SQLModel, values: Mapping[str, Any]) -> bool:
    """Set the values that differ on the row; True when any did (so callers stamp `updated_at` only then)."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


async def get_resource(s: AsyncSession, resource_id: int, *, lock: bool = False) -> Resource:
    """The resource; `lock` holds its row until commit on PostgreSQL, as bookings of it do."""
    return await get_or_404(s, Resource, resource_id, what="resource", key="resource_id", lock=lock)


async def policy_of(s: AsyncSession, resource: Resource) -> Policy:
    assert resource.id is not None
    return policy_from_json(resource.policy, await closures_of(s, resource.id))


# ---------------------------------------------------------------- catalogue rows from specs


def _plain(value: Any) -> Any:
    """The value as it reads back from a JSON column, so a re-import compares equal to what it stored."""
    return json.loads(json.dumps(value))


def location_values(spec: LocationSpec) -> dict[str, Any]:
    fields = (
        "name",
        "address",
        "postal_code",
        "city",
        "description",
        "step_free_access",
        "accessible_toilet",
        "hearing_loop",
        "access_notes",
    )
    values = {name: getattr(spec, name) for name in fields}
    values["opening_hours"] = _plain([window_to_json(w) for w in spec.opening_hours])
    return values


def resource_values(spec: ResourceSpec, location_id: int) -> dict[str, Any]:
    return {
        "location_id": location_id,
        "kind": str(spec.kind),
        "name": spec.name,
        "description": spec.description,
        "capacity": spec.capacity,
        "stock": spec.stock,
        "number": spec.number,
        "features": sorted(spec.features),
        "policy": _plain(policy_to_json(spec.policy)),
    }


# ---------------------------------------------------------------- catalogue queries

Keyed = TypeVar("Keyed", Location, Resource, Kit)


async def by_key(s: AsyncSession, table: type[Keyed], keys: Iterable[str]) -> dict[str, Keyed]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = (await s.execute(select(table).where(table.key.in_(wanted)))).scalars()
    return {row.key: row for row in rows}


async def closures_by_resource(s: AsyncSession, resource_ids: Iterable[int]) -> dict[int, list[Closure]]:
    found: dict[int, list[Closure]] = {}
    query = select(Closure).where(Closure.resource_id.in_(sorted(set(resource_ids))))
    for closure in (await s.execute(query.order_by(Closure.start, Closure.id))).scalars():
        found.setdefault(closure.resource_id, []).append(closure)
    return found


async def kit_with_items(s: AsyncSession, kit_id: int) -> tuple[Kit, list[KitItem]]:
    """A kit and its items in resource order: a kit loan locks its items in that order, so two never wait in a circle."""
    kit = await get_or_404(s, Kit, kit_id, what="kit", key="kit_id")
    items = (await s.execute(select(KitItem).where(KitItem.kit_id == kit_id).order_by(KitItem.resource_id))).scalars()
    return kit, list(items)


async def items_by_kit(s: AsyncSession, kit_ids: Iterable[int]) -> dict[int, list[KitItem]]:
    found: dict[int, list[KitItem]] = {}
    query = select(KitItem).where(KitItem.kit_id.in_(sorted(set(kit_ids))))
    for item in (await s.execute(query.order_by(KitItem.id))).scalars():
        found.setdefault(item.kit_id, []).append(item)
    return found


async def list_locations(s: AsyncSession) -> list[Location]:
    return list((await s.execute(select(Location).order_by(Location.name, Location.id))).scalars())


async def get_location(s: AsyncSession, location_id: int) -> Location:
    location = await s.get(Location, location_id)
    if location is None:
        raise NotFound(f"No location {location_id}", location_id=location_id)
    return location


async def find_resources(
    s: AsyncSession, *, kind: str | None, location_id: int | None, min_capacity: int | None, include_retired: bool
) -> list[Resource]:
    query = select(Resource)
    if kind is not None:
        query = query.where(Resource.kind == kind)
    if location_id is not None:
        query = query.where(Resource.location_id == location_id)
    if min_capacity is not None:
        query = query.where(Resource.capacity >= min_capacity)
    if not include_retired:
        query = query.where(Resource.retired_at.is_(None))
    # Beds sort by their number, not by "Pallekarm 10" before "Pallekarm 2".
    order = (Resource.location_id, Resource.kind, Resource.number, Resource.name, Resource.id)
    return list((await s.execute(query.order_by(*order))).scalars())


async def get_closure(s: AsyncSession, resource_id: int, closure_id: int) -> Closure:
    closure = await s.get(Closure, closure_id)
    if closure is None or closure.resource_id != resource_id:
        raise NotFound(f"Resource {resource_id} has no closure {closure_id}", closure_id=closure_id)
    return closure


async def list_kits(s: AsyncSession) -> list[tuple[Kit, list[tuple[KitItem, Resource]]]]:
    kits = list((await s.execute(select(Kit).order_by(Kit.name, Kit.id))).scalars())
    items = await items_by_kit(s, [k.id for k in kits if k.id is not None])
    wanted = {item.resource_id for found in items.values() for item in found}
    resources = {r.id: r for r in (await s.execute(select(Resource).where(Resource.id.in_(wanted)))).scalars()}
    return [(kit, [(item, resources[item.resource_id]) for item in items.get(kit.id, [])]) for kit in kits]
