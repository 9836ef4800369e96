"""HTTP for the catalogue: locations, resources with their rules and closures, and kits."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, post
from msgspec import UNSET, UnsetType

from infra.database import Db
from infra.time import MIDNIGHT, OSLO
from people.actor import Actor
from resources import service
from resources.rules import BookerKind, Policy, ResourceKind, WeeklyWindow
from resources.store import Closure, Location, Resource, window_from_json

Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(max_length=200)]
Count = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Clock = Annotated[str, msgspec.Meta(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Weekday = Annotated[int, msgspec.Meta(ge=0, le=6)]
Aware = Annotated[datetime, msgspec.Meta(tz=True)]
Minutes = int  # signs and sizes are the policy's to judge, so a bad value is an `invalid_policy` naming its field


class WindowIn(msgspec.Struct, forbid_unknown_fields=True):
    weekdays: list[Weekday]
    start: Clock
    end: Clock  # "24:00" ends the window at midnight
    valid_from: date | None = None
    valid_until: date | None = None

    def window(self) -> WeeklyWindow:
        start, end = (MIDNIGHT if t == "24:00" else time.fromisoformat(t) for t in (self.start, self.end))
        return WeeklyWindow(frozenset(self.weekdays), start, end, self.valid_from, self.valid_until)


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Only the rules given change; durations are whole minutes."""

    windows: list[WindowIn] | UnsetType = UNSET
    min_duration_minutes: Minutes | UnsetType = UNSET
    max_duration_minutes: Minutes | UnsetType = UNSET
    granularity_minutes: Minutes | UnsetType = UNSET
    buffer_before_minutes: Minutes | UnsetType = UNSET
    buffer_after_minutes: Minutes | UnsetType = UNSET
    horizon_minutes: Minutes | UnsetType = UNSET
    lead_time_minutes: Minutes | UnsetType = UNSET
    cancellation_notice_minutes: Minutes | UnsetType = UNSET
    max_loan_minutes: Minutes | UnsetType = UNSET
    bookable_by: list[BookerKind] | UnsetType = UNSET
    needs_approval: bool | UnsetType = UNSET
    open_on_holidays: bool | UnsetType = UNSET
    association_hours_per_week: float | None | UnsetType = UNSET
    max_active_bookings_per_person: int | None | UnsetType = UNSET
    max_active_loans: int | None | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in given(self).items():
            if name.endswith("_minutes"):
                found[name.removesuffix("_minutes")] = timedelta(minutes=value)
            elif name == "windows":
                found[name] = tuple(w.window() for w in value)
            elif name == "bookable_by":
                found[name] = frozenset(value)
            else:
                found[name] = value
        return found


class ResourceIn(msgspec.Struct, forbid_unknown_fields=True):
    key: Key
    location_id: int
    kind: ResourceKind
    name: Name
    description: Text = ""
    capacity: Count | None = None
    stock: Count | None = None
    number: Count | None = None
    features: list[str] = msgspec.field(default_factory=list)
    policy: PolicyIn | None = None

    def spec(self) -> service.NewResource:
        policy = self.policy.changes() if self.policy else {}
        values = {f: getattr(self, f) for f in self.__struct_fields__ if f not in ("features", "policy")}
        return service.NewResource(**values, features=frozenset(self.features), policy=policy)


class ResourceChangesIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    location_id: int | UnsetType = UNSET
    capacity: Count | None | UnsetType = UNSET
    stock: Count | None | UnsetType = UNSET
    number: Count | None | UnsetType = UNSET
    features: list[str] | UnsetType = UNSET
    in_maintenance: bool | UnsetType = UNSET
    policy: PolicyIn | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        found = given(self)
        if "policy" in found:
            found["policy"] = self.policy.changes()  # type: ignore[union-attr]
        return found


class ClosureIn(msgspec.Struct, forbid_unknown_fields=True):
    start: Aware
    end: Aware
    reason: Reason = ""


def given(struct: msgspec.Struct) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__ if getattr(struct, f) is not UNSET}


# ---------------------------------------------------------------- answers


def local(moment: datetime | None) -> str | None:
    return moment.astimezone(OSLO).isoformat() if moment else None


def window_json(w: WeeklyWindow) -> dict[str, Any]:
    return {
        "weekdays": sorted(w.weekdays),
        "start": w.start.strftime("%H:%M"),
        "end": "24:00" if w.end == MIDNIGHT else w.end.strftime("%H:%M"),
        "valid_from": w.valid_from.isoformat() if w.valid_from else None,
        "valid_until": w.valid_until.isoformat() if w.valid_until else None,
    }


def policy_json(policy: Policy) -> dict[str, Any]:
    """The rules as people read them: durations in whole minutes, windows in Oslo wall-clock time."""
    found: dict[str, Any] = {}
    for f in dataclasses.fields(Policy):
        value = getattr(policy, f.name)
        if isinstance(value, timedelta):
            found[f"{f.name}_minutes"] = int(value.total_seconds() // 60)
        elif f.name == "windows":
            found[f.name] = [window_json(w) for w in value]
        elif f.name == "bookable_by":
            found[f.name] = sorted(value)
        elif f.name != "closures":
            found[f.name] = value
    return found


def location_json(loc: Location) -> dict[str, Any]:
    return {
        "id": loc.id,
        "key": loc.key,
        "name": loc.name,
        "address": loc.address,
        "postal_code": loc.postal_code,
        "city": loc.city,
        "description": loc.description,
        "opening_hours": [window_json(window_from_json(w)) for w in loc.opening_hours],
        "accessibility": {
            "step_free_access": loc.step_free_access,
            "accessible_toilet": loc.accessible_toilet,
            "hearing_loop": loc.hearing_loop,
            "notes": loc.access_notes,
        },
    }


def resource_json(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id,
        "key": r.key,
        "kind": r.kind,
        "name": r.name,
        "description": r.description,
        "location_id": r.location_id,
        "capacity": r.capacity,
        "stock": r.stock,
        "number": r.number,
        "features": r.features,
        "in_maintenance": r.in_maintenance,
        "retired_at": local(r.retired_at),
        "updated_at": local(r.updated_at),
    }


def closure_json(c: Closure) -> dict[str, Any]:
    return {"id": c.id, "start": local(c.start), "end": local(c.end), "reason": c.reason}


def detail_json(d: service.ResourceDetail) -> dict[str, Any]:
    return {**resource_json(d.resource), "policy": policy_json(d.policy), "closures": [closure_json(c) for c in d.closures]}


def listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "count": len(items)}


# ---------------------------------------------------------------- handlers


@get("/api/v1/locations", summary="Locations, with opening hours and accessibility")
async def list_locations(db: Db) -> dict:
    return listing([location_json(loc) for loc in await service.list_locations(db)])


@get("/api/v1/locations/{location_id:int}", summary="One location, with opening hours and accessibility")
async def get_location(location_id: int, db: Db) -> dict:
    return location_json(await service.get_location(db, location_id))


@get("/api/v1/resources", summary="Resources by kind, location, features (all of them) and seats")
async def list_resources(
    db: Db,
    kind: ResourceKind | None = None,
    location_id: int | None = None,
    feature: list[str] | None = None,
    min_capacity: int | None = None,
    include_retired: bool = False,
) -> dict:
    found = await service.list_resources(
        db, kind=kind, location_id=location_id, feature=feature, min_capacity=min_capacity, include_retired=include_retired
    )
    return listing([resource_json(r) for r in found])


@get("/api/v1/resources/{resource_id:int}", summary="One resource, with its rules and closures")
async def get_resource(resource_id: int, db: Db) -> dict:
    return detail_json(await service.get_resource(db, resource_id))


@post("/api/v1/resources", summary="Staff: add a resource; rules left out take the kind's defaults")
async def create_resource(data: ResourceIn, db: Db, actor: Actor, now: datetime) -> Response:
    return Response(detail_json(await service.create_resource(db, actor, data.spec(), now=now)), status_code=201)


# Changing, retiring and closing a resource may cancel its bookings: their handlers are booking's (`booking.api`).


@delete("/api/v1/resources/{resource_id:int}/closures/{closure_id:int}", summary="Staff: lift a closure")
async def remove_closure(resource_id: int, closure_id: int, db: Db, actor: Actor, now: datetime) -> None:
    await service.remove_closure(db, actor, resource_id, closure_id, now=now)


@get("/api/v1/kits", summary="Kits: equipment lent together")
async def list_kits(db: Db) -> dict:
    kits = [
        {
            "id": kit.id,
            "key": kit.key,
            "name": kit.name,
            "location_id": kit.location_id,
            "items": [{"resource_id": r.id, "key": r.key, "name": r.name, "quantity": item.quantity} for item, r in items],
        }
        for kit, items in await service.list_kits(db)
    ]
    return listing(kits)


ROUTES = [
    list_locations,
    get_location,
    list_resources,
    get_resource,
    create_resource,
    remove_closure,
    list_kits,
]
