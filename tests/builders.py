"""Builders for test data: people with tokens, associations, and rooms with a given policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from infra.database import Db
from people import service as people_service
from people.store import Association, Membership, Person, StaffGrant
from resources.rules import BookerKind, Policy, WeeklyWindow
from resources.store import Location, Resource, policy_to_json

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
EVERY_DAY = frozenset(range(7))

AFTER_HOURS = (
    WeeklyWindow(weekdays=frozenset({0, 1, 2, 3, 4}), start=time(17), end=time(22)),
    WeeklyWindow(weekdays=frozenset({5, 6}), start=time(10), end=time(20)),
)


def room_policy(**changes) -> Policy:
    base = dict(
        windows=AFTER_HOURS,
        min_duration=timedelta(hours=1),
        max_duration=timedelta(hours=4),
        granularity=timedelta(minutes=30),
        lead_time=timedelta(hours=2),
        horizon=timedelta(days=180),
        bookable_by=frozenset({BookerKind.RESIDENT, BookerKind.ASSOCIATION, BookerKind.STAFF}),
        cancellation_notice=timedelta(hours=24),
    )
    base.update(changes)
    return Policy(**base)


async def person(db: Db, email: str, *, staff: bool = False, name: str = "") -> tuple[int, dict[str, str]]:
    """A person and the Authorization header that signs them in."""
    async with db.write() as s:
        row = Person(email=email, name=name or email.split("@")[0].title(), created_at=EPOCH, last_seen_at=EPOCH)
        s.add(row)
        await s.flush()
        person_id = row.id
        if staff:
            s.add(StaffGrant(person_id=person_id, role="operator", created_at=EPOCH))
    token = await people_service.issue_credential(db, email, "api", now=EPOCH)
    return person_id, {"Authorization": f"Bearer {token}"}


async def association(db: Db, name: str, orgnr: str, members: dict[int, str]) -> int:
    async with db.write() as s:
        row = Association(name=name, orgnr=orgnr, created_at=EPOCH)
        s.add(row)
        await s.flush()
        for person_id, role in members.items():
            s.add(Membership(association_id=row.id, person_id=person_id, role=role, created_at=EPOCH))
        return row.id


async def room(
    db: Db,
    *,
    key: str = "moterom",
    capacity: int = 20,
    policy: Policy | None = None,
    features: tuple[str, ...] = (),
    kind: str = "room",
    stock: int | None = None,
) -> int:
    async with db.write() as s:
        location = (await s.execute(select(Location).where(Location.key == "huset"))).scalar_one_or_none()
        location = location or Location(key="huset", name="Huset", address="Gata 1", postal_code="3044")
        s.add(location)
        await s.flush()
        resource = Resource(
            key=key,
            location_id=location.id,
            kind=kind,
            name=key.title(),
            capacity=capacity,
            stock=stock,
            features=list(features),
            policy=policy_to_json(policy or room_policy()),
            updated_at=EPOCH,
        )
        s.add(resource)
        await s.flush()
        return resource.id


OPENING_HOURS = (
    WeeklyWindow(weekdays=frozenset({0, 1, 2, 3, 4}), start=time(10), end=time(19)),
    WeeklyWindow(weekdays=frozenset({5}), start=time(11), end=time(15)),
)


def lending_policy(**changes) -> Policy:
    base = dict(
        windows=OPENING_HOURS,
        min_duration=timedelta(hours=1),
        max_duration=timedelta(days=7),
        max_loan=timedelta(days=7),
        granularity=timedelta(minutes=15),
        lead_time=timedelta(hours=2),
        bookable_by=frozenset({BookerKind.RESIDENT, BookerKind.ASSOCIATION, BookerKind.STAFF}),
    )
    base.update(changes)
    return Policy(**base)


async def item(db: Db, key: str, stock: int, **policy_changes) -> int:
    """An item of equipment at the lending point, `stock` identical units."""
    return await room(db, key=key, kind="equipment", stock=stock, capacity=None, policy=lending_policy(**policy_changes))


async def kit(db: Db, key: str, items: dict[int, int]) -> int:
    from resources.store import Kit, KitItem

    async with db.write() as s:
        location_id = (await s.execute(select(Location.id).where(Location.key == "huset"))).scalar_one()
        row = Kit(key=key, name=key.title(), location_id=location_id)
        s.add(row)
        await s.flush()
        for resource_id, quantity in items.items():
            s.add(KitItem(kit_id=row.id, resource_id=resource_id, quantity=quantity))
        return row.id
