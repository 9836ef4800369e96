"""Tables and queries for the catalogue: locations, resources, their policies, closures and kits."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from config.database import UtcDateTime
from config.errors import NotFound
from resources import rules
from resources.rules import Policy, WeeklyWindow


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


async def get_resource(s: AsyncSession, resource_id: int) -> Resource:
    resource = await s.get(Resource, resource_id)
    if resource is None:
        raise NotFound(f"No resource {resource_id}", resource_id=resource_id)
    return resource


async def policy_of(s: AsyncSession, resource: Resource) -> Policy:
    assert resource.id is not None
    return policy_from_json(resource.policy, await closures_of(s, resource.id))
