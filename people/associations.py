"""Use cases for associations and their members: register, list, invite and answer, promote and remove members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infra import audit, outbox
from infra.audit import Action
from infra.database import Db
from infra.errors import Conflict, ErrorCode, InvalidInput, NotFound
from people import store
from people.actor import Actor, Duty, check_admin, check_may, check_member
from people.rules import (
    INVITATION_LIFETIME,
    AssociationNotFound,
    InvalidName,
    InvitationClosed,
    InvitationNotFound,
    InvitationState,
    MemberRole,
    check_may_answer,
    check_name,
    check_orgnr,
    invitation_state,
    normalise_email,
)
from people.service import PersonNotFound
from people.store import Association, Invitation, Membership, Person

INVITATION_MAIL = "association_invitation"


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


def check_role(value: str) -> str:
    if value not in set(MemberRole):
        raise InvalidRole(f"{value!r} is not admin or member", field="role")
    return value


async def add_association(
    db: Db, name: str, orgnr: str, *, admin_email: str, now: datetime, contact_email: str = "", contact_phone: str = "",
    actor_id: int | None = None,
) -> Association:  # fmt: skip
    """Register an association with its first admin, who must already be a person here (`actor_id`: the staff member
    who did, None from the console)."""
    if not name.strip():
        raise InvalidName("An association needs a name", field="name")
    check_name(name)
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
        # The association's own name and number; its contact address and phone may be a person's, so they stay out.
        after = {"name": association.name, "orgnr": orgnr, "admin_id": admin.id}
        audit.record(s, Action.ASSOCIATION_CREATED, actor_id=actor_id, at=now, object_id=association.id, subject_id=admin.id, after=after)
    return association


async def open_association(
    db: Db, actor: Actor, name: str, orgnr: str, *, admin_email: str, now: datetime, contact_email: str = "", contact_phone: str = ""
) -> Association:
    """Staff who manage people (operators) register an association over HTTP."""
    check_may(actor, Duty.PEOPLE)
    return await add_association(
        db, name, orgnr, admin_email=admin_email, now=now, contact_email=contact_email, contact_phone=contact_phone,
        actor_id=actor.person_id,
    )  # fmt: skip


async def list_associations(db: Db, actor: Actor) -> list[Association]:
    """Staff who read anywhere see every association (their bookings are read by association name); others their own."""
    every = actor.may(Duty.PEOPLE) or actor.places(Duty.READ) != frozenset()
    async with db.read() as s:
        return await store.associations(s, of_person=None if every else actor.person_id)


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
    """Staff who manage people add someone already registered at once (the operator's way); admins invite instead."""
    role, email = check_role(role), normalise_email(email)
    check_may(actor, Duty.PEOPLE)
    async with db.write() as s:
        await _association(s, association_id, lock=True)
        person = await store.person_by_email(s, email)
        if person is None:
            raise PersonNotFound(f"No person with email {email}; add them first", email=email)
        if await store.membership(s, association_id, person.id) is not None:
            raise AlreadyMember(f"{email} is already a member", person_id=person.id)
        membership = Membership(association_id=association_id, person_id=person.id, role=role, created_at=now)
        s.add(membership)
        await s.flush()
        _record(s, Action.MEMBERSHIP_GRANTED, actor, membership, reason="added by staff", after={"role": role}, now=now)
    return membership, person


def _record(
    s: AsyncSession, action: Action, actor: Actor, membership: Membership, *, reason: str, now: datetime,
    before: dict | None = None, after: dict | None = None,
) -> None:  # fmt: skip
    """A membership's change in the audit trail: about its member, with the association by id."""
    audit.record(
        s, action, actor_id=actor.person_id, at=now, object_id=membership.id, subject_id=membership.person_id, reason=reason,
        before=before, after={"association_id": membership.association_id, **(after or {})},
    )  # fmt: skip


def _by_whom(actor: Actor, association_id: int) -> str:
    """Why someone else's membership changed: their association's admin, or staff who manage people."""
    return "by an admin" if actor.is_admin_of(association_id) else "by staff"


# ---------------------------------------------------------------- invitations


async def invite_member(db: Db, actor: Actor, association_id: int, email: str, role: str, *, now: datetime) -> None:
    """An admin invites an address; it answers nothing about whom the address belongs to. Inviting it again
    renews the invitation (new link, new deadline, this role)."""
    role, email = check_role(role), normalise_email(email)
    check_admin(actor, association_id)
    async with db.write() as s:
        association = await _association(s, association_id, lock=True)
        # The mail goes through the outbox, which needs a recipient: a new address becomes a resident, as at sign-in.
        person, created = await store.ensure_person(s, email, now=now)
        if created:  # an address new here becomes a person, added by the admin who invited it
            audit.record(
                s, Action.PERSON_ADDED, actor_id=actor.person_id, at=now, object_id=person.id, subject_id=person.id, reason="invited"
            )
        if await store.membership(s, association_id, person.id) is not None:
            # Admins see their members' addresses already, so saying so tells them nothing new.
            raise AlreadyMember(f"{email} is already a member", association_id=association_id)
        token, token_hash = store.new_token()
        invitation = await _open_invitation(s, association_id, email, person.id, now=now)
        invitation.role, invitation.token_hash = role, token_hash
        invitation.expires_at = now + INVITATION_LIFETIME
        await s.flush()
        _record_invitation_mail(s, invitation, association, token, now=now)


async def _open_invitation(s: AsyncSession, association_id: int, email: str, person_id: int, *, now: datetime) -> Invitation:
    """The address's open invitation to renew, or a new one."""
    for invitation in await store.pending_invitations(s, association_id, now=now, email=email):
        return invitation
    invitation = Invitation(association_id=association_id, email=email, person_id=person_id, token_hash="", created_at=now, expires_at=now)
    s.add(invitation)
    return invitation


def _record_invitation_mail(s: AsyncSession, invitation: Invitation, association: Association, token: str, *, now: datetime) -> None:
    # Only the association's name and the invited role: the mail names no member, not even the admin who invited.
    outbox.record(
        s,
        INVITATION_MAIL,
        person_id=invitation.person_id,
        at=now,
        association=association.name,
        role=invitation.role,
        deadline=invitation.expires_at.isoformat(),
        path=f"/invitations/{token}",
    )


async def list_invitations(db: Db, actor: Actor, association_id: int, *, now: datetime) -> list[Invitation]:
    """The open invitations, for the admins: by the address they typed, never by whom it belongs to."""
    check_admin(actor, association_id)
    async with db.read() as s:
        await _association(s, association_id)
        return await store.pending_invitations(s, association_id, now=now)


async def withdraw_invitation(db: Db, actor: Actor, association_id: int, invitation_id: int, *, now: datetime) -> None:
    check_admin(actor, association_id)
    async with db.write() as s:
        await _association(s, association_id, lock=True)
        invitation = await s.get(Invitation, invitation_id)
        if invitation is None or invitation.association_id != association_id:
            raise InvitationNotFound(invitation_id=invitation_id)
        if invitation_state(invitation.state, invitation.expires_at, now=now) != InvitationState.PENDING:
            raise InvitationClosed(invitation_id=invitation_id)
        invitation.state, invitation.answered_at = InvitationState.WITHDRAWN, now


async def show_invitation(db: Db, actor: Actor, token: str, *, now: datetime) -> tuple[Invitation, Association, InvitationState]:
    """The invitee reads their invitation: which association, which role, until when."""
    async with db.read() as s:
        invitation = await store.invitation_by_token(s, token)
        if invitation is None or invitation.person_id != actor.person_id:
            raise InvitationNotFound()
        association = await _association(s, invitation.association_id)
    return invitation, association, invitation_state(invitation.state, invitation.expires_at, now=now)


async def accept_invitation(db: Db, actor: Actor, token: str, *, now: datetime) -> Membership:
    """The signed-in invitee accepts: the membership begins now, with the invited role."""
    async with db.write() as s:
        invitation = await _answerable(s, actor, token, now=now)
        await _association(s, invitation.association_id, lock=True)
        if await store.membership(s, invitation.association_id, actor.person_id) is not None:
            raise AlreadyMember("You are already a member", association_id=invitation.association_id)
        membership = Membership(association_id=invitation.association_id, person_id=actor.person_id, role=invitation.role, created_at=now)
        s.add(membership)
        invitation.state, invitation.answered_at = InvitationState.ACCEPTED, now
        await s.flush()
        # The invitee's acceptance makes the membership, so they are its actor; the admin's step is the invitation.
        after = {"role": invitation.role, "invitation_id": invitation.id}
        _record(s, Action.MEMBERSHIP_GRANTED, actor, membership, reason="invitation accepted", after=after, now=now)
    return membership


async def decline_invitation(db: Db, actor: Actor, token: str, *, now: datetime) -> None:
    async with db.write() as s:
        invitation = await _answerable(s, actor, token, now=now)
        invitation.state, invitation.answered_at = InvitationState.DECLINED, now


async def _answerable(s: AsyncSession, actor: Actor, token: str, *, now: datetime) -> Invitation:
    invitation = await store.invitation_by_token(s, token, lock=True)
    if invitation is None:
        raise InvitationNotFound()
    check_may_answer(invitation.person_id, actor.person_id, invitation_state(invitation.state, invitation.expires_at, now=now))
    return invitation


async def change_role(db: Db, actor: Actor, association_id: int, person_id: int, role: str, *, now: datetime) -> tuple[Membership, Person]:
    role = check_role(role)
    check_admin(actor, association_id)
    async with db.write() as s:
        membership = await _membership(s, association_id, person_id)
        if membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN:
            await _check_keeps_an_admin(s, association_id)
        before = {"role": membership.role}
        membership.role = role
        if before["role"] != role:
            _record(
                s,
                Action.MEMBERSHIP_CHANGED,
                actor,
                membership,
                reason=_by_whom(actor, association_id),
                before=before,
                after={"role": role},
                now=now,
            )
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
        reason = "left" if person_id == actor.person_id else _by_whom(actor, association_id)
        _record(s, Action.MEMBERSHIP_REMOVED, actor, membership, reason=reason, before={"role": membership.role}, now=now)


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
