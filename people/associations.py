"""Use cases for associations and their members: register, list, and let admins add, promote and remove members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infra.database import Db
from infra.errors import Conflict, ErrorCode, InvalidInput, NotFound
from people import store
from people.actor import Actor, check_admin, check_member, check_staff
from people.rules import AssociationNotFound, MemberRole, check_orgnr, normalise_email
from people.service import PersonNotFound
from people.store import Association, Membership, Person


class MembershipNotFound(NotFound):
    code = ErrorCode.MEMBERSHIP_NOT_FOUND
    title = "This person is not a member of the association"


class OrgnrTaken(Conflict):
    code = ErrorCode.ORGNR_TAKEN
    title = "An association with this organisation number is already registered"


class AlreadyMember(Conflict):
    code = ErrorCode.ALREADY_MEMBER
    title = "This person is already a member of the association"


class LastAdmin(Conflict):
    code = ErrorCode.LAST_ADMIN
    title = "An association must keep at least one admin"


class InvalidRole(InvalidInput):
    code = ErrorCode.INVALID_ROLE
    title = "The role must be admin or member"


class InvalidName(InvalidInput):
    code = ErrorCode.INVALID_NAME
    title = "The name is missing"


def check_role(value: str) -> str:
    if value not in set(MemberRole):
        raise InvalidRole(f"{value!r} is not admin or member", field="role")
    return value


async def add_association(
    db: Db, name: str, orgnr: str, *, admin_email: str, now: datetime, contact_email: str = "", contact_phone: str = ""
) -> Association:
    """Register an association with its first admin, who must already be a person here."""
    if not name.strip():
        raise InvalidName("An association needs a name", field="name")
    orgnr, admin_email = check_orgnr(orgnr), normalise_email(admin_email)
    contact_email = normalise_email(contact_email) if contact_email.strip() else ""
    async with db.write() as s:
        admin = await store.person_by_email(s, admin_email)
        if admin is None:
            raise PersonNotFound(f"No person with email {admin_email}; add them first", email=admin_email)
        if await store.association_by_orgnr(s, orgnr) is not None:
            raise OrgnrTaken(f"Organisation number {orgnr} is already registered", orgnr=orgnr)
        association = Association(
            name=name.strip(), orgnr=orgnr, contact_email=contact_email, contact_phone=contact_phone.strip(), created_at=now
        )
        s.add(association)
        try:
            await s.flush()
        except IntegrityError:  # registered concurrently, between our check and our insert
            raise OrgnrTaken(f"Organisation number {orgnr} is already registered", orgnr=orgnr) from None
        s.add(Membership(association_id=association.id, person_id=admin.id, role=MemberRole.ADMIN, created_at=now))
    return association


async def open_association(
    db: Db, actor: Actor, name: str, orgnr: str, *, admin_email: str, now: datetime, contact_email: str = "", contact_phone: str = ""
) -> Association:
    """Staff register an association over HTTP."""
    check_staff(actor)
    return await add_association(
        db, name, orgnr, admin_email=admin_email, now=now, contact_email=contact_email, contact_phone=contact_phone
    )


async def list_associations(db: Db, actor: Actor) -> list[Association]:
    """Staff see every association; others see their own."""
    async with db.read() as s:
        return await store.associations(s, of_person=None if actor.is_staff else actor.person_id)


async def get_association(db: Db, actor: Actor, association_id: int) -> Association:
    check_member(actor, association_id)
    async with db.read() as s:
        return await _association(s, association_id)


async def list_members(db: Db, actor: Actor, association_id: int) -> list[tuple[Membership, Person]]:
    check_member(actor, association_id)
    async with db.read() as s:
        await _association(s, association_id)
        return await store.members_of(s, association_id)


async def add_member(db: Db, actor: Actor, association_id: int, email: str, role: str, *, now: datetime) -> tuple[Membership, Person]:
    """An admin adds a member by email; someone new here becomes a resident."""
    role, email = check_role(role), normalise_email(email)
    check_admin(actor, association_id)
    async with db.write() as s:
        await _association(s, association_id, lock=True)
        person, _ = await store.ensure_person(s, email, now=now)
        if await store.membership(s, association_id, person.id) is not None:
            raise AlreadyMember(f"{email} is already a member", person_id=person.id)
        membership = Membership(association_id=association_id, person_id=person.id, role=role, created_at=now)
        s.add(membership)
        await s.flush()
    return membership, person


async def change_role(db: Db, actor: Actor, association_id: int, person_id: int, role: str, *, now: datetime) -> tuple[Membership, Person]:
    role = check_role(role)
    check_admin(actor, association_id)
    async with db.write() as s:
        membership = await _membership(s, association_id, person_id)
        if membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN:
            await _check_keeps_an_admin(s, association_id)
        membership.role = role
        person = await s.get(Person, person_id)
    assert person is not None
    return membership, person


async def remove_member(db: Db, actor: Actor, association_id: int, person_id: int, *, now: datetime) -> None:
    """Admins remove members; any member may leave."""
    if person_id != actor.person_id:
        check_admin(actor, association_id)
    async with db.write() as s:
        membership = await _membership(s, association_id, person_id)
        if membership.role == MemberRole.ADMIN:
            await _check_keeps_an_admin(s, association_id)
        await s.delete(membership)


async def _association(s: AsyncSession, association_id: int, *, lock: bool = False) -> Association:
    association = await store.association(s, association_id, lock=lock)
    if association is None:
        raise AssociationNotFound(association_id=association_id)
    return association


async def _membership(s: AsyncSession, association_id: int, person_id: int) -> Membership:
    """The membership to change, with the association locked so that two admins never demote each other."""
    await _association(s, association_id, lock=True)
    membership = await store.membership(s, association_id, person_id)
    if membership is None:
        raise MembershipNotFound(association_id=association_id, person_id=person_id)
    return membership


async def _check_keeps_an_admin(s: AsyncSession, association_id: int) -> None:
    if await store.admin_count(s, association_id) <= 1:
        raise LastAdmin("Make another member admin first", association_id=association_id)
