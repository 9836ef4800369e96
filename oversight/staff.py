"""Granting and revoking staff roles: operators only (or the console), every change in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from infra import audit
from infra.audit import Action
from infra.database import Db
from infra.errors import Conflict, ErrorCode, NotFound
from people.actor import Actor, Duty, check_may
from people.roles import Grant, StaffRole, check_grant_shape
from people.rules import normalise_email
from people.service import PersonNotFound
from people.store import Person, StaffGrant, person_by_email
from resources.store import Location


@dataclass(frozen=True)
class StaffMember:
    person_id: int
    name: str
    email: str
    grants: tuple[Grant, ...]


class LocationNotFound(NotFound):
    code = ErrorCode.LOCATION_NOT_FOUND
    title = "There is no such location"


class GrantNotFound(NotFound):
    code = ErrorCode.GRANT_NOT_FOUND
    title = "This person does not hold this role here"


class LastOperator(Conflict):
    code = ErrorCode.LAST_OPERATOR
    title = "The last operator's role cannot be revoked"


def check_roles_duty(actor: Actor | None) -> None:
    """The console (None) may; a signed-in person only as an operator."""
    if actor is not None:
        check_may(actor, Duty.ROLES)


async def location_id_of(s: AsyncSession, location: int | str | None) -> int | None:
    """A location by id (the API) or key (the console); None stays None (everywhere)."""
    if location is None:
        return None
    column = Location.id if isinstance(location, int) else Location.key
    found = (await s.execute(select(Location.id).where(column == location))).scalar_one_or_none()
    if found is None:
        raise LocationNotFound(f"No location {location}", location=location)
    return found


async def person_of(s: AsyncSession, who: int | str) -> Person:
    person = await s.get(Person, who) if isinstance(who, int) else await person_by_email(s, normalise_email(who))
    if person is None or person.erased_at is not None:
        raise PersonNotFound(f"No person {who}", person=who)
    return person


async def grant(db: Db, actor: Actor | None, who: int | str, role: str, location: int | str | None = None, *, now: datetime) -> bool:
    """Give a person a role (at a location, where the role is placed); False when they held it already."""
    check_roles_duty(actor)
    async with db.write() as s:
        person, shape, held = await _asked(s, who, role, location)
        location_id = shape.location_id
        if held is not None:
            return False
        s.add(StaffGrant(person_id=person.id, role=shape.role.value, location_id=location_id, granted_by=_id(actor), created_at=now))
        audit.record(
            s, Action.ROLE_GRANTED, actor_id=_id(actor), at=now, object_id=person.id, subject_id=person.id,
            location_id=location_id, after={"role": shape.role.value, "location_id": location_id},
        )  # fmt: skip
    return True


async def revoke(db: Db, actor: Actor | None, who: int | str, role: str, location: int | str | None = None, *, now: datetime) -> None:
    """Take a role back; the last operator keeps theirs (somebody must be able to grant roles)."""
    check_roles_duty(actor)
    async with db.write() as s:
        person, shape, held = await _asked(s, who, role, location)
        location_id = shape.location_id
        if held is None:
            raise GrantNotFound(f"{person.id} does not hold {role} there", role=role, location_id=location_id)
        if shape.role is StaffRole.OPERATOR and await _operators(s) <= 1:
            raise LastOperator("Grant another operator first")
        await s.execute(delete(StaffGrant).where(StaffGrant.id == held.id))
        audit.record(
            s, Action.ROLE_REVOKED, actor_id=_id(actor), at=now, object_id=person.id, subject_id=person.id,
            location_id=location_id, before={"role": shape.role.value, "location_id": location_id},
        )  # fmt: skip


async def staff_members(db: Db, actor: Actor) -> list[StaffMember]:
    """Everyone who holds a role, with their roles: what an operator manages and any staff who read (anywhere) see."""
    if actor.places(Duty.READ) == frozenset():  # reads nowhere: refused as check_may refuses (staff_only for residents)
        check_may(actor, Duty.READ)
    async with db.read() as s:
        rows = (
            await s.execute(select(StaffGrant, Person).join(Person, Person.id == StaffGrant.person_id).order_by(Person.name, Person.id))
        ).all()
    members: dict[int, StaffMember] = {}
    for grant_row, person in rows:
        current = members.get(person.id)
        grants = (*(current.grants if current else ()), Grant(StaffRole(grant_row.role), grant_row.location_id))
        members[person.id] = StaffMember(person.id, person.name, person.email, tuple(sorted(grants, key=str)))
    return list(members.values())


async def _asked(s: AsyncSession, who: int | str, role: str, location: int | str | None) -> tuple[Person, Grant, StaffGrant | None]:
    """The person, the role as granted (checked for its shape), and their grant of it if they hold it (locked)."""
    location_id = await location_id_of(s, location)
    shape = check_grant_shape(role, location_id)
    person = await person_of(s, who)
    return person, shape, await _held(s, person.id, shape)


async def _held(s: AsyncSession, person_id: int, shape: Grant) -> StaffGrant | None:
    query = select(StaffGrant).where(
        StaffGrant.person_id == person_id,
        StaffGrant.role == shape.role.value,
        StaffGrant.location_id.is_(None) if shape.location_id is None else StaffGrant.location_id == shape.location_id,
    )
    return (await s.execute(query.with_for_update())).scalar_one_or_none()


async def _operators(s: AsyncSession) -> int:
    """How many hold the operator role, their grants locked: two operators revoking each other at once leave one."""
    query = select(StaffGrant.person_id).where(StaffGrant.role == StaffRole.OPERATOR.value).with_for_update()
    return len(set((await s.execute(query)).scalars()))


def _id(actor: Actor | None) -> int | None:
    return None if actor is None else actor.person_id
